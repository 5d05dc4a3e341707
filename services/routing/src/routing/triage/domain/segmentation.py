"""Word segmentation for triage: jieba for Chinese, a small tokeniser for English.

Why segment: a Chinese keyword found as a bare substring is often part of another word
(积分 inside 微积分 "calculus", 会员 across 委员会|员工, 钱 inside 钱包 "wallet"). The rules
therefore accept a Chinese match only where it starts and ends on word boundaries.

jieba loads a 5 MB dictionary on first use (about a second, see ``initialise``); the
service calls ``initialise`` once at start-up, before consuming, so that no complaint
waits for it. Segmentation runs without jieba's HMM guesser: unknown character runs stay
single characters (every position a boundary), which keeps rules predictable; words the
rules care about are added to the dictionary instead.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LITERAL_CJK_WORD = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]{2,12}$")
_ENGLISH_WORD = re.compile(r"[a-z][a-z0-9']*|[0-9]+")
_CLAUSE_END = re.compile(r"[,.;:!?，。；：！？、\n]")

# Chinese negators, and fillers that may stand between a negator and the word it negates
# (没有出现漏电, 并没有任何损坏).
NEGATORS_ZH = frozenset(
    {"没有", "没", "无", "未", "不是", "并非", "并未", "并没有", "从未", "从没", "毫无", "不曾"}
)
_FILLERS_ZH = frozenset({"出现", "发生", "任何", "什么", "有", "过", "并", "也", "都", "完全"})
_NEGATION_EN = re.compile(
    r"(?<![a-z])(no|not|never|without|nobody|none|neither|isn't|wasn't|aren't|weren't|didn't|doesn't|don't|"
    r"hasn't|haven't|hadn't|nor)(\s+[a-z'-]+){0,2}\s*$",
    re.IGNORECASE,
)


class _Dictionary:
    """jieba's dictionary as this process uses it: loaded once, on first need, plus the
    literal keywords the classifiers added to it (jieba's dictionary is process-wide by
    nature: ``jieba.add_word`` changes the one default tokenizer). Words added before the
    load wait in ``pending``, so that building a classifier stays cheap."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jieba: Any = None
        self.added: set[str] = set()
        self.pending: set[str] = set()

    def load_locked(self) -> bool:
        """Load jieba (quietly) if not loaded yet; whether this call loaded it."""
        if self.jieba is not None:
            return False
        with warnings.catch_warnings():
            # jieba 0.42's regular expressions have invalid escapes (harmless).
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", SyntaxWarning)
            import jieba

        jieba.setLogLevel(logging.WARNING)  # it prints "Building prefix dict" otherwise
        logging.getLogger("jieba").setLevel(logging.WARNING)
        jieba.initialize()
        self.jieba = jieba
        return True

    def add_locked(self, words: Iterable[str]) -> None:
        added = False
        for word in words:
            if word in self.added or not _LITERAL_CJK_WORD.match(word):
                continue
            self.added.add(word)
            added = True
            # Words jieba already knows keep jieba's frequency: raising it could pull the
            # word out of a longer one (会员 out of 委员会员工).
            if not self.jieba.dt.FREQ.get(word):
                self.jieba.add_word(word, freq=self.jieba.suggest_freq(word, tune=False))
        if added:  # only a new word can change a segmentation already cached
            _segment.cache_clear()


@cache
def _dictionary() -> _Dictionary:
    """The process's one dictionary (created on first use; jieba itself loads later, in
    ``initialise`` or the first segmentation)."""
    return _Dictionary()


def initialise(extra_words: Iterable[str] = ()) -> float:
    """Load jieba's dictionary (once per process, quietly) and add ``extra_words``.

    Returns the seconds the first load took (0.0 when already loaded): on this project's
    reference machine about 0.3 s import + 1.0 s dictionary load.
    """
    dictionary = _dictionary()
    with dictionary.lock:
        started = time.perf_counter()
        loaded_now = dictionary.load_locked()
        dictionary.add_locked([*sorted(dictionary.pending), *extra_words])
        dictionary.pending.clear()
        return time.perf_counter() - started if loaded_now else 0.0


def add_words(words: Iterable[str]) -> None:
    """Make each literal Chinese keyword one dictionary word (so it segments whole).

    Before ``initialise`` the words wait, so that building a classifier stays cheap."""
    dictionary = _dictionary()
    with dictionary.lock:
        if dictionary.jieba is None:
            dictionary.pending.update(words)
            return
        dictionary.add_locked(words)


@dataclass(frozen=True, slots=True)
class Segmentation:
    text: str
    tokens: tuple[tuple[str, int, int], ...]  # (word, start, end) over ``text``
    boundaries: frozenset[int]

    def aligned(self, start: int, end: int) -> bool:
        """Whether ``text[start:end]`` starts and ends on a word boundary.

        Only Chinese ends are checked: English ends are the patterns' own ASCII boundaries.
        """
        if start < end and _CJK.match(self.text[start]) and start not in self.boundaries:
            return False
        return not (end > start and _CJK.match(self.text[end - 1]) and end not in self.boundaries)

    def negated(self, start: int) -> str | None:
        """The negator governing the word at ``start`` in its clause, if any
        (没有漏电, "no sparks", "didn't catch fire")."""
        clause_start = 0
        for match in _CLAUSE_END.finditer(self.text, 0, start):
            clause_start = match.end()
        before = self.text[clause_start:start]
        english = _NEGATION_EN.search(before)
        if english is not None:
            return english.group(1)
        words = [w for w, s, e in self.tokens if e <= start and s >= clause_start and w.strip()]
        for word in reversed(words[-3:]):
            if word in NEGATORS_ZH:
                return word
            if word not in _FILLERS_ZH:
                return None
        return None

    def words(self) -> list[str]:
        """Normalised words for a statistical model: Chinese words, stemmed English words."""
        found: list[str] = []
        for word, _, _ in self.tokens:
            if _CJK.search(word):
                found.append(word)
            else:
                found.extend(stem(w) for w in _ENGLISH_WORD.findall(word.lower()))
        return found


def segment(text: str) -> Segmentation:
    return _segment(text)


def search_words(text: str) -> tuple[str, ...]:
    """The words of ``text`` as jieba's search mode gives them, for a search index: the
    words of :func:`segment` (same dictionary, no HMM) plus the dictionary words inside each
    longer one (卫生间 also gives 卫生), so that a query for the shorter word finds it."""
    jieba = _jieba()
    return tuple(word for word, _, _ in jieba.tokenize(text, mode="search", HMM=False))


def _jieba() -> Any:
    jieba = _dictionary().jieba
    if jieba is None:
        initialise()
        jieba = _dictionary().jieba
    return jieba


@lru_cache(maxsize=256)
def _segment(text: str) -> Segmentation:
    # Classification, emotion and the model look at the same text in one triage.
    jieba = _jieba()
    tokens = tuple(
        (word, start, end) for word, start, end in jieba.tokenize(text, mode="default", HMM=False)
    )
    boundaries = frozenset(b for _, start, end in tokens for b in (start, end))
    return Segmentation(text, tokens, boundaries)


_KEEP = frozenset({"was", "has", "does", "this", "its", "yes", "bus", "gas", "news"})
_DOUBLED = frozenset("bdgmnprt")


def stem(word: str) -> str:
    """A deliberately small English stemmer for a model's features, never for rules:
    plurals, -ed, -ing and a final e, so that "refunds", "refunded" and "refunding" are all
    "refund" and "charge", "charges", "charged" all "charg"."""
    if word in _KEEP or len(word) <= 3:
        return word
    base = word
    if word.endswith(("ies", "ied")) and len(word) > 4:
        base = word[:-3] + "y"
    elif word.endswith(("sses", "shes", "ches", "xes", "zes")):
        base = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        base = word[:-1]
    elif word.endswith("ing") and len(word) > 5:
        base = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        base = word[:-2]
    if base != word and len(base) > 3 and base[-1] == base[-2] and base[-1] in _DOUBLED:
        base = base[:-1]  # "stopped" → "stop", "shipping" → "ship"
    if base.endswith("e") and len(base) > 4:
        base = base[:-1]
    return base
