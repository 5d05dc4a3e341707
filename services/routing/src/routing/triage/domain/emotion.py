"""Emotion level from one message's text (§4): blue, yellow or red.

Scoring, kept small on purpose:
- a threat to go public / legal, or alarm (a safety hazard or a data leak), is red at once:
  such a customer is frightened or escalating whatever words they choose; a hazard or
  leak the customer denies (没有漏电, "no injury") is no alarm (``emotion.negated``);
- otherwise points: 2 per strong negative word, 1 for any mild irritation (however many:
  impatience alone never makes red), 1 for exclamation (2 for three or more marks),
  2 for shouting in ALL CAPS (two or more capitalised words of three or more letters);
- 3 points or more is red, 1 or more yellow, none blue.

The "same irritation word in three consecutive messages" rule of §4 needs the
conversation and lives with the message history, not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from complaint_contracts.vocabulary import EmotionLevel

from routing.triage.domain.lexicon import (
    NEGATIVE_MILD,
    NEGATIVE_STRONG,
    PRIVACY_LEAK,
    SAFETY,
    THREATS,
)
from routing.triage.domain.matching import FiredRule, matched, normalize
from routing.triage.domain.negation import find_affirmed

RED_SCORE = 3
YELLOW_SCORE = 1
STRONG_POINTS = 2
MILD_POINTS = 1
CAPS_POINTS = 2
MANY_EXCLAMATIONS = 3
MIN_CAPS_WORDS = 2

_CAPS_WORD = re.compile(r"(?<![0-9A-Za-z_-])[A-Z]{3,}(?![0-9A-Za-z_-])")
# Acronyms are written in capitals by everyone, calm or not.
_ACRONYMS = frozenset(
    {
        "APP",
        "API",
        "ATM",
        "CEO",
        "DIY",
        "DVD",
        "FAQ",
        "GPS",
        "HDMI",
        "HTML",
        "LCD",
        "LED",
        "NFC",
        "OTP",
        "PDF",
        "PIN",
        "SIM",
        "SKU",
        "SMS",
        "SSD",
        "USA",
        "USB",
        "VAT",
        "VIP",
        "WIFI",
        "ORD",
        "URL",
        "IOS",
        "UPS",
        "DHL",
        "EMS",
        "RMB",
        "CNY",
        "USD",
        "EUR",
    }
)


@dataclass(frozen=True, slots=True)
class EmotionAssessment:
    level: EmotionLevel
    rules_fired: tuple[FiredRule, ...]


def assess_emotion(*, subject: str, description: str) -> EmotionAssessment:
    text = normalize(f"{subject}\n{description}")
    rules: list[FiredRule] = []
    alarm = False
    score = 0

    threats = THREATS.find_all(text)
    if threats:
        rules.append(FiredRule("emotion.threat", matched(threats)))
        alarm = True
    hazard = find_affirmed(SAFETY, text)
    leak = find_affirmed(PRIVACY_LEAK, text)
    alarming = hazard.found + leak.found
    if alarming:
        rules.append(FiredRule("emotion.alarm", matched(alarming)))
        alarm = True
    denied = hazard.negated + leak.negated
    if denied:
        # "没有漏电" reassures rather than alarms; recorded so the level can be explained.
        rules.append(FiredRule("emotion.negated", "ignored " + "; ".join(denied)))
    strong = NEGATIVE_STRONG.find_all(text)
    if strong:
        score += STRONG_POINTS * len(strong)
        rules.append(FiredRule("emotion.negative_strong", matched(strong)))
    mild = NEGATIVE_MILD.find_all(text)
    if mild:
        score += MILD_POINTS
        rules.append(FiredRule("emotion.negative_mild", matched(mild)))
    marks = text.count("!")
    if marks:
        score += 2 if marks >= MANY_EXCLAMATIONS else 1
        rules.append(FiredRule("emotion.exclamation", f"{marks} exclamation mark(s)"))
    # On the normalized text, so full-width capitals (ＴＨＩＳ) count too.
    caps = [w for w in _CAPS_WORD.findall(text) if w not in _ACRONYMS]
    if len(caps) >= MIN_CAPS_WORDS:
        score += CAPS_POINTS
        rules.append(FiredRule("emotion.all_caps", matched(dict.fromkeys(caps))))

    level: EmotionLevel
    if alarm or score >= RED_SCORE:
        level = "red"
    elif score >= YELLOW_SCORE:
        level = "yellow"
    else:
        level = "blue"
    reason = "threat or alarm" if alarm else f"score {score}"
    rules.append(FiredRule("emotion.level", f"{reason} → {level}"))
    return EmotionAssessment(level, tuple(rules))
