"""The catalog and the formatting of both languages: the same keys in zh-CN and en, every
key the templates and the code use present, every word of the platform's vocabulary
translated, durations ("剩余 1小时20分" / "1 h 20 min left"), dates in the reader's zone,
and the choice of language."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from complaint_contracts.vocabulary import CATEGORIES, CHANNELS, PRIORITIES
from console.board.domain.tasks import ALL_OUTCOMES, CSAT_SCORES, KINDS
from console.i18n.domain.catalog import MESSAGES, MODULES, translate
from console.i18n.domain.formatting import (
    ago_text,
    date_time_text,
    duration_text,
    short_date_time_text,
    time_left_text,
)
from console.i18n.domain.language import chosen_language, negotiate
from console.i18n.domain.locale import Locale
from console.queue.domain.filters import STATUS_CHIPS

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "console"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_both_languages_hold_the_same_keys() -> None:
    assert set(MESSAGES["zh-CN"]) == set(MESSAGES["en"])
    for language, messages in MESSAGES.items():
        empty = [key for key, text in messages.items() if not text.strip()]
        assert not empty, (language, empty)


def test_no_module_of_a_language_holds_a_key_of_another() -> None:
    for language, modules in MODULES.items():
        keys = [key for module in modules for key in module]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        assert not twice, (language, twice)


def test_placeholders_are_the_same_in_both_languages() -> None:
    def names(text: str) -> set[str]:
        return set(re.findall(r"\{(\w+)\}", text))

    for key, text in MESSAGES["en"].items():
        assert names(text) == names(MESSAGES["zh-CN"][key]), key


def _literal_keys() -> set[str]:
    """Every ``loc.t("...")`` key of the templates, and every catalog key the code names."""
    part = r"[a-z0-9_\-]+"
    key = rf"{part}(?:\.{part})+"  # complete keys only (not "filter." ~ name)
    found: set[str] = set()
    for template in (PACKAGE / "templates").rglob("*.html"):
        text = template.read_text("utf-8")
        found |= set(re.findall(rf"loc\.t\(\s*[\"']({key})[\"']", text))
    for module in PACKAGE.rglob("*.py"):
        text = module.read_text("utf-8")
        found |= set(re.findall(rf'"((?:notice|queue|form|signin)\.{part}(?:\.{part})*)"', text))
    return {k for k in found if not k.endswith(".html")}


def test_every_key_the_pages_use_is_in_the_catalog() -> None:
    used = _literal_keys()
    assert {"queue.mine.title", "notice.reply_sent", "form.stale", "signin.oidc-down"} <= used
    missing = sorted(used - set(MESSAGES["en"]))
    assert not missing


@pytest.mark.parametrize(
    ("group", "values"),
    [
        ("status", (*STATUS_CHIPS, "received", "triaged")),
        ("priority", PRIORITIES),
        ("channel", CHANNELS),
        ("category", CATEGORIES),
        ("tier", ("standard", "silver", "gold", "vip")),
        (
            "solution",
            (
                "apology",
                "explanation",
                "refund",
                "compensation",
                "repair",
                "replacement",
                "process_fix",
                "other",
            ),
        ),
        ("sla.level", ("ok", "warning", "danger", "breached", "paused", "none")),
        ("sla.explain", ("ok", "warning", "danger", "breached", "paused", "none")),
        (
            "form.error",
            (
                *("required", "too_long", "choice", "pattern", "one_of", "invalid"),
                *("range", "not_allowed", "csat_range", "csat_not_asked"),
            ),
        ),
        ("task", KINDS),
        ("board.tasks", KINDS),
        ("task_outcome", ALL_OUTCOMES),
        ("task_status", ("open", "done")),
        ("task_reason", ("resolved", "no_channel")),
        ("csat", tuple(str(score) for score in CSAT_SCORES)),
        (
            "event",
            (
                *("task_created", "task_assigned", "task_completed", "task_rescheduled"),
                "closed_not_reached",
            ),
        ),
        ("signin", ("token-missing", "token-invalid", "token-expired", "no-role")),
        (
            "error",
            tuple(
                f"{k}.{p}"
                for k in (
                    "csrf",
                    "forbidden",
                    "not_found",
                    "conflict",
                    "invalid",
                    "unavailable",
                    "internal",
                )
                for p in ("title", "text")
            ),
        ),
    ],
)
def test_every_word_of_the_vocabulary_is_translated(group: str, values: tuple[str, ...]) -> None:
    missing = [v for v in values if f"{group}.{v}" not in MESSAGES["en"]]
    assert not missing


def test_the_task_words() -> None:
    zh = MESSAGES["zh-CN"]
    assert zh["task.follow_up_call"] == "回访"
    assert zh["task.customer_unreachable"] == "客户无法联系"


def test_the_customer_facing_status_words() -> None:
    zh = MESSAGES["zh-CN"]
    assert zh["status.received"] == "已受理"
    assert zh["status.in_progress"] == "处理中"
    assert zh["status.resolved"] == "已解决"
    assert zh["status.closed"] == "已关闭"


def test_translate_fills_placeholders_and_never_fails() -> None:
    assert translate("en", "form.error.too_long", {"limit": 2000}) == "At most 2000 characters."
    assert translate("zh-CN", "form.error.too_long", {"limit": 2000}) == "最多 2000 个字符。"
    assert translate("en", "form.error.too_long") == "At most {limit} characters."
    assert translate("en", "no.such.key") == "no.such.key"
    assert translate("en", "status.new_state", default="new_state") == "new_state"


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [
        (4800, "剩余 1小时20分", "1 h 20 min left"),
        (4830, "剩余 1小时20分", "1 h 20 min left"),
        (7200, "剩余 2小时", "2 h left"),
        (1200, "剩余 20分", "20 min left"),
        (30, "剩余 不到1分", "< 1 min left"),
        (2 * 86400 + 3 * 3600 + 59, "剩余 2天3小时", "2 d 3 h left"),
        (86400, "剩余 1天", "1 d left"),
        (-2100, "超时 35分", "35 min overdue"),
        (-(3600 * 5 + 60), "超时 5小时1分", "5 h 1 min overdue"),
    ],
)
def test_time_left_in_both_languages(seconds: int, zh: str, en: str) -> None:
    assert time_left_text(seconds, "zh-CN") == zh
    assert time_left_text(seconds, "en") == en


def test_durations_drop_a_zero_second_unit() -> None:
    assert duration_text(3 * 86400, "en") == "3 d"
    assert duration_text(0, "zh-CN") == "不到1分"


def test_dates_are_in_the_reader_s_zone_and_format() -> None:
    moment = datetime(2026, 11, 28, 6, 5, tzinfo=UTC)  # 14:05 in Shanghai
    assert date_time_text(moment, SHANGHAI, "zh-CN") == "2026年11月28日 14:05"
    assert date_time_text(moment, SHANGHAI, "en") == "28 Nov 2026, 14:05"
    assert date_time_text(moment, ZoneInfo("Europe/London"), "en") == "28 Nov 2026, 06:05"
    now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert short_date_time_text(moment, now, SHANGHAI, "en") == "14:05"
    assert short_date_time_text(moment - timedelta(days=3), now, SHANGHAI, "zh-CN") == (
        "11月25日 14:05"
    )
    assert short_date_time_text(moment - timedelta(days=365), now, SHANGHAI, "en") == (
        "28 Nov 2025, 14:05"
    )


def test_how_long_ago() -> None:
    now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert ago_text(now - timedelta(seconds=20), now, "zh-CN") == "刚刚"
    assert ago_text(now - timedelta(minutes=5), now, "zh-CN") == "5分钟前"
    assert ago_text(now - timedelta(hours=3), now, "en") == "3 h ago"
    assert ago_text(now - timedelta(days=2), now, "en") == "2 d ago"


def test_a_locale_formats_words_and_times() -> None:
    loc = Locale("en", SHANGHAI, datetime(2026, 11, 28, 10, 0, tzinfo=UTC))
    assert loc.word("status", "awaiting_customer") == "Waiting for customer"
    assert loc.word("status", "a_state_added_later") == "a_state_added_later"
    assert loc.word("status", None) == "—"
    assert loc.when(None) == "—"
    assert loc.iso(datetime(2026, 11, 28, 6, 5, tzinfo=UTC)) == "2026-11-28T14:05+08:00"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "zh-CN"),
        ("", "zh-CN"),
        ("en-US,en;q=0.9", "en"),
        ("zh-TW,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("en;q=0.9,zh-CN;q=0.9", "zh-CN"),  # a tie goes to zh-CN
        ("en;q=1,zh;q=0.5", "en"),
        ("de-DE,fr;q=0.8", "zh-CN"),
        ("zh;q=0,en;q=0.1", "en"),
        ("en;q=abc", "zh-CN"),
    ],
)
def test_the_language_from_accept_language(header: str | None, expected: str) -> None:
    assert negotiate(header, default="zh-CN") == expected


def test_a_saved_choice_wins_and_a_bad_one_is_ignored() -> None:
    assert chosen_language("en", "zh-CN", default="zh-CN") == "en"
    assert chosen_language("fr", "en", default="zh-CN") == "en"
    assert chosen_language(None, None, default="en") == "en"
