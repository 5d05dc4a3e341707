"""The conversation rule of §4: yellow after the same irritation word in three consecutive
customer messages (the complaint's description is the first message).

The streak is the run length, per irritation word, of consecutive messages up to the latest
that contain it; a message without the word ends that word's run. The rule fires once, on
the message that brings a run to the threshold; routing then turns a blue case yellow (a
yellow or red case keeps its level: the rule only ever raises blue, and §4 changes the
priority for red only, so the priority is untouched).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routing.triage.domain.matching import FiredRule, Lexicon, normalize

DEFAULT_STREAK_LENGTH = 3

# Label → pattern. Words customers repeat when they run out of patience; each is one
# label, so "Still" and "still" (or 还没 in two phrasings) continue the same run.
IRRITATION_WORDS: dict[str, Lexicon] = {
    label: Lexicon((pattern,))
    for label, pattern in {
        "麻烦": "麻烦",
        "还没": "还没|还未|仍未",
        "还是": "还是",
        "一直": "一直",
        "到底": "到底",
        "怎么还": "怎么还",
        "又": "又是|又一次|又要|又没",
        "再次": "再次|再一次",
        "催": "催",
        "again": r"again",
        "still": r"still",
        "yet": r"(not|no|nothing) yet|yet again",
        "keep": r"keep (waiting|asking|calling|telling)",
        "how many times": r"how many times",
    }.items()
}


@dataclass(frozen=True, slots=True)
class StreakUpdate:
    runs: dict[str, int]  # the new run lengths (only words of the latest message)
    fired: FiredRule | None  # set on the message that reaches the threshold


def irritation_words(text: str) -> frozenset[str]:
    folded = normalize(text)
    return frozenset(label for label, lexicon in IRRITATION_WORDS.items() if lexicon.find(folded))


def observe(
    runs: Mapping[str, int], text: str, *, length: int = DEFAULT_STREAK_LENGTH
) -> StreakUpdate:
    """The runs after one more customer message, and the rule if a run reached ``length``."""
    words = irritation_words(text)
    updated = {word: runs.get(word, 0) + 1 for word in sorted(words)}
    reached = [word for word, run in updated.items() if run == length]
    fired = None
    if reached:
        quoted = ", ".join(f"'{w}'" for w in reached)
        fired = FiredRule(
            "emotion.streak", f"{quoted} in {length} consecutive customer messages → yellow"
        )
    return StreakUpdate(updated, fired)
