"""Priority per §4: examples for every rule and properties of the raise."""

from __future__ import annotations

import pytest
from complaint_contracts.vocabulary import CATEGORIES, PRIORITIES, Category, EmotionLevel, Tier
from hypothesis import given
from hypothesis import strategies as st
from routing.triage.domain.lexicon import MEDIA_LEGAL, PRIVACY_LEAK, QUERY_MARKERS, SAFETY
from routing.triage.domain.priority import PriorityDecision, decide_priority

RANK = {p: i for i, p in enumerate(PRIORITIES)}  # P1 → 0 ... P4 → 3


def decide(
    text: str,
    *,
    category: Category = "other",
    tier: Tier = "standard",
    emotion: EmotionLevel = "blue",
    repeat_count: int = 0,
    supervisor_p1: bool = False,
) -> PriorityDecision:
    return decide_priority(
        category=category,
        text=text,
        tier=tier,
        emotion=emotion,
        repeat_count=repeat_count,
        supervisor_p1=supervisor_p1,
    )


def names(decision: PriorityDecision) -> list[str]:
    return [r.rule for r in decision.rules_fired]


# -- base priority


def test_ordinary_complaint_is_p3() -> None:
    decision = decide("洗衣机不脱水")
    assert decision.priority == decision.base_priority == "P3"
    assert names(decision) == ["priority.p3.default"]


def test_privacy_category_is_p1() -> None:
    decision = decide("有人知道我的订单号", category="privacy_data_leak")
    assert decision.priority == "P1"
    assert decision.rules_fired[0].rule == "priority.p1.privacy_leak"
    assert decision.rules_fired[0].detail == "category privacy_data_leak"


@pytest.mark.parametrize("text", ["你们泄露了我的信息", "my data was leaked", "a data breach"])
def test_leak_words_are_p1_whatever_the_category(text: str) -> None:
    decision = decide(text, category="technical_fault")
    assert decision.priority == "P1"
    assert "priority.p1.privacy_leak" in names(decision)


@pytest.mark.parametrize(
    "text",
    [
        "热水器漏电",
        "插座起火",
        "锅炉爆炸",
        "孩子受伤了",
        "被触电",
        "电视冒烟",
        "I got an electric shock",
        "the charger caught fire",
        "it caused an injury",
        "my son was injured",
        "smoke came out",
        "the battery may explode",
    ],
)
def test_safety_hazard_is_p1(text: str) -> None:
    decision = decide(text, category="product_quality")
    assert decision.priority == "P1"
    assert "priority.p1.safety_hazard" in names(decision)


@pytest.mark.parametrize(
    "text",
    [
        "the smoke alarm beeps at night",
        "the staff member was fired",
        "the motor smells burnt",
        "our firewall blocks your site",
        "燃气灶打不着火",
    ],
)
def test_near_misses_are_not_hazards(text: str) -> None:
    assert decide(text).priority == "P3"


def test_supervisor_sets_p1() -> None:
    decision = decide("普通问题", supervisor_p1=True)
    assert decision.priority == "P1"
    assert names(decision) == ["priority.p1.supervisor"]


@pytest.mark.parametrize(
    "text",
    [
        "请问周末营业吗",
        "建议增加自助结账",
        "咨询一下发票怎么开",
        "能否改成周六送货",
        "Could you tell me your opening hours?",
        "I suggest adding a dark mode",
        "Question about gift cards",
        "How do I change my address?",
    ],
)
def test_pure_query_or_suggestion_is_p4(text: str) -> None:
    decision = decide(text)
    assert decision.priority == "P4"
    assert names(decision) == ["priority.p4.pure_query"]


@pytest.mark.parametrize(
    "text",
    [
        "请问为什么我的快递还没到",
        "建议你们培训一下，态度太差了",
        "请问坏了能换吗",
        "Could you tell me why my order never arrived?",
        "How do I complain about a rude agent?",
        "Question: why was I charged twice?",
        "请问你们是不是想让我找律师",
    ],
)
def test_query_with_complaint_signal_is_not_pure(text: str) -> None:
    decision = decide(text)
    assert decision.base_priority == "P3"
    assert "priority.p4.not_pure" in names(decision)


# -- raise rules


@pytest.mark.parametrize(
    "text",
    [
        "我要去曝光你们",
        "我会找媒体",
        "我要发微博",
        "已经打了12315",
        "去消协投诉",
        "我已经请了律师",
        "准备起诉",
        "我要投诉到市场监管局",
        "联系了记者",
        "I will call my lawyer",
        "I am going to sue",
        "I wrote to the regulator",
        "I will take this to the media",
        "I have contacted the press",
        "my attorney has the file",
    ],
)
def test_media_or_legal_words_raise(text: str) -> None:
    decision = decide(text)
    assert decision.priority == "P2"
    assert "priority.raise.media_legal" in names(decision)


def test_complaining_until_now_is_not_a_threat() -> None:
    assert decide("我投诉到现在都没人处理").priority == "P3"


@pytest.mark.parametrize(
    ("tier", "expected"), [("standard", "P3"), ("silver", "P3"), ("gold", "P2"), ("vip", "P2")]
)
def test_tier_raise(tier: Tier, expected: str) -> None:
    assert decide("洗衣机不脱水", tier=tier).priority == expected


@pytest.mark.parametrize(("repeat_count", "expected"), [(0, "P3"), (1, "P3"), (2, "P2"), (5, "P2")])
def test_repeat_raise_counts_earlier_complaints(repeat_count: int, expected: str) -> None:
    assert decide("洗衣机不脱水", repeat_count=repeat_count).priority == expected


def test_repeat_threshold_is_configuration() -> None:
    decision = decide_priority(
        category="other",
        text="x",
        tier="standard",
        emotion="blue",
        repeat_count=1,
        repeat_threshold=1,
    )
    assert decision.priority == "P2"


def test_raise_tiers_are_configuration() -> None:
    decision = decide_priority(
        category="other", text="x", tier="silver", emotion="blue", raise_tiers={"silver"}
    )
    assert decision.priority == "P2"


@pytest.mark.parametrize(("emotion", "expected"), [("blue", "P3"), ("yellow", "P3"), ("red", "P2")])
def test_red_emotion_raises(emotion: EmotionLevel, expected: str) -> None:
    assert decide("洗衣机不脱水", emotion=emotion).priority == expected


def test_gold_query_goes_from_p4_to_p3() -> None:
    decision = decide("请问周末营业吗", tier="gold")
    assert (decision.base_priority, decision.priority) == ("P4", "P3")
    assert names(decision)[-1] == "priority.raise.applied"
    assert decision.rules_fired[-1].detail == "P4 → P3"


def test_several_raises_give_one_level_and_are_all_recorded() -> None:
    decision = decide("我要找律师", tier="vip", emotion="red", repeat_count=3)
    assert decision.priority == "P2"
    assert names(decision) == [
        "priority.p3.default",
        "priority.raise.media_legal",
        "priority.raise.tier",
        "priority.raise.repeat",
        "priority.raise.emotion_red",
        "priority.raise.applied",
    ]


def test_raises_on_p1_are_recorded_but_change_nothing() -> None:
    decision = decide("漏电", tier="vip", emotion="red")
    assert decision.priority == "P1"
    assert names(decision)[-3:] == [
        "priority.raise.tier",
        "priority.raise.emotion_red",
        "priority.raise.none",
    ]


# -- properties

_WORDS = [
    *(p for p in QUERY_MARKERS.patterns if p.isalnum()),
    *(p for p in MEDIA_LEGAL.patterns if p.isalnum()),
    *(p for p in SAFETY.patterns if p.isalnum()),
    *(p for p in PRIVACY_LEAK.patterns if p.isalnum()),
    "坏了",
    "还没",
    "太差",
    "broken",
    "still",
    "请问",
    "refund",
    "退款",
]
texts = st.lists(st.one_of(st.sampled_from(_WORDS), st.text(max_size=12)), max_size=6).map(" ".join)
inputs = st.fixed_dictionaries(
    {
        "category": st.sampled_from(CATEGORIES),
        "text": texts,
        "tier": st.sampled_from(["standard", "silver", "gold", "vip"]),
        "emotion": st.sampled_from(["blue", "yellow", "red"]),
        "repeat_count": st.integers(min_value=0, max_value=6),
        "supervisor_p1": st.booleans(),
    }
)


@given(inputs)
def test_priority_is_one_of_p1_to_p4(kwargs: dict) -> None:
    decision = decide_priority(**kwargs)
    assert decision.priority in PRIORITIES
    assert decision.base_priority in PRIORITIES
    assert decision.rules_fired


@given(inputs)
def test_raise_is_at_most_one_level_and_never_into_p1(kwargs: dict) -> None:
    decision = decide_priority(**kwargs)
    assert RANK[decision.base_priority] - RANK[decision.priority] in (0, 1)
    if decision.base_priority != "P1":
        assert decision.priority != "P1"


@given(inputs)
def test_base_ignores_the_non_text_raise_conditions(kwargs: dict) -> None:
    decision = decide_priority(**kwargs)
    calm = decide_priority(**{**kwargs, "tier": "standard", "emotion": "blue", "repeat_count": 0})
    assert calm.base_priority == decision.base_priority
    if not MEDIA_LEGAL.find_all(kwargs["text"]):
        assert calm.priority == calm.base_priority


@given(inputs)
def test_p1_needs_a_leak_safety_or_supervisor_rule(kwargs: dict) -> None:
    decision = decide_priority(**kwargs)
    p1_rules = {"priority.p1.privacy_leak", "priority.p1.safety_hazard", "priority.p1.supervisor"}
    assert (decision.priority == "P1") == bool(p1_rules & set(names(decision)))


@given(inputs, st.sampled_from(["tier", "emotion", "repeat", "media", "supervisor"]))
def test_adding_a_raise_condition_never_lowers_priority(kwargs: dict, condition: str) -> None:
    before = decide_priority(**kwargs)
    changed = dict(kwargs)
    if condition == "tier":
        changed["tier"] = "vip"
    elif condition == "emotion":
        changed["emotion"] = "red"
    elif condition == "repeat":
        changed["repeat_count"] = kwargs["repeat_count"] + 2
    elif condition == "media":
        changed["text"] = kwargs["text"] + " 我要找律师 lawyer"
    else:
        changed["supervisor_p1"] = True
    after = decide_priority(**changed)
    assert RANK[after.priority] <= RANK[before.priority]


@given(inputs)
def test_every_raise_condition_that_holds_is_recorded(kwargs: dict) -> None:
    rules = set(names(decide_priority(**kwargs)))
    assert ("priority.raise.tier" in rules) == (kwargs["tier"] in ("gold", "vip"))
    assert ("priority.raise.emotion_red" in rules) == (kwargs["emotion"] == "red")
    assert ("priority.raise.repeat" in rules) == (kwargs["repeat_count"] >= 2)


# -- negation: a hazard or leak the customer denies is no P1


@pytest.mark.parametrize(
    "text",
    [
        "没有漏电，就是不加热",
        "热水器没漏电，只是噪音大",
        "并没有出现任何漏电",
        "孩子没受伤，但盒子坏了",
        "no injury, but the lid is cracked",
        "there was no gas leak, the hob just clicks",
        "This is not a data leak, my name is misspelt on the invoice",
        "Nobody was injured; the box was dented",
    ],
)
def test_a_denied_hazard_or_leak_is_not_p1(text: str) -> None:
    decision = decide(text, category="product_quality")
    assert decision.priority == "P3"
    assert "priority.p1.safety_hazard" not in names(decision)
    assert "priority.p1.privacy_leak" not in names(decision)
    negated = [r for r in decision.rules_fired if r.rule == "priority.negated"]
    assert len(negated) == 1
    assert negated[0].detail.startswith("ignored '")


@pytest.mark.parametrize(
    ("text", "fired"),
    [
        ("没有漏电，但是起火了", "'起火'"),
        ("没有漏电但起火了", "'起火'"),
        ("Nobody was injured at first, but then it caught fire", "'caught fire'"),
        ("no sparks at first; later it exploded", "'exploded'"),
    ],
)
def test_a_denial_governs_its_own_clause_only(text: str, fired: str) -> None:
    decision = decide(text, category="product_quality")
    assert decision.priority == "P1"
    hazard = next(r for r in decision.rules_fired if r.rule == "priority.p1.safety_hazard")
    assert fired in hazard.detail
    assert "priority.negated" in names(decision)


def test_not_a_leak_versus_leaked_my_data() -> None:
    denied = decide("It's not a data leak, just a wrong address", category="other")
    leaked = decide("You leaked my data to a marketing firm", category="other")
    assert (denied.priority, leaked.priority) == ("P3", "P1")
    assert "priority.negated" in names(denied)
    assert "priority.negated" not in names(leaked)
    assert "priority.p1.privacy_leak" in names(leaked)


def test_negation_does_not_lift_the_privacy_category() -> None:
    # The category itself is P1 (§4); only the words are negated.
    decision = decide("没有泄露我的信息，但骚扰电话不断", category="privacy_data_leak")
    assert decision.priority == "P1"
    assert "priority.negated" in names(decision)
