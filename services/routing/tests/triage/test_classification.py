"""The keyword classifier: one example per sub-category and the scoring rules."""

from __future__ import annotations

import pytest
from complaint_contracts.vocabulary import CATEGORIES
from hypothesis import given
from hypothesis import strategies as st
from routing.triage.domain.classification import (
    DEFAULT_RULES,
    NO_MATCH_CONFIDENCE,
    NO_MATCH_SUBCATEGORY,
    Classification,
    Classifier,
    KeywordClassifier,
    KeywordRule,
)
from routing.triage.domain.matching import Lexicon

CLASSIFIER = KeywordClassifier()


def classify(subject: str, description: str = "", language: str = "zh-CN") -> Classification:
    return CLASSIFIER.classify(subject=subject, description=description, language=language)


@pytest.mark.parametrize(
    ("subject", "description", "category", "subcategory"),
    [
        # billing_refund
        ("退款申请两周了", "退款延迟，银行那边说没收到。", "billing_refund", "refund_delay"),
        ("Refund delayed", "My refund is overdue by ten days.", "billing_refund", "refund_delay"),
        ("扣费有误", "这个月话费被多扣了30元。", "billing_refund", "overcharge"),
        (
            "Double charge",
            "I was double-charged for the same order.",
            "billing_refund",
            "overcharge",
        ),
        ("活动价没生效", "说好的满减，结账时优惠券没有生效。", "billing_refund", "price_mismatch"),
        ("Invoice", "Please send me an invoice for my purchase.", "billing_refund", "invoice"),
        # delivery_logistics
        ("包裹丢了", "物流停在中转站一周，客服说包裹丢失。", "delivery_logistics", "lost_parcel"),
        (
            "Late delivery",
            "The parcel has not arrived after 12 days.",
            "delivery_logistics",
            "late_delivery",
        ),
        ("Wrong size", "You sent me the wrong size.", "delivery_logistics", "wrong_item"),
        (
            "暴力分拣",
            "快递箱子被压扁，明显是暴力分拣。",
            "delivery_logistics",
            "damaged_in_transit",
        ),
        # product_quality
        ("电饭煲不加热", "电饭煲用了三天就不加热了。", "product_quality", "defect"),
        ("Fake shoes", "These trainers are counterfeit.", "product_quality", "counterfeit"),
        ("插座冒火花", "电器插上就冒火花。", "product_quality", "safety_hazard"),
        (
            "Screen arrived shattered",
            "The monitor glass was shattered.",
            "product_quality",
            "damaged_item",
        ),
        # privacy_data_leak
        ("信息被卖", "你们把我的资料泄露给了贷款公司。", "privacy_data_leak", "personal_data_leak"),
        (
            "Account hacked",
            "My account was compromised overnight.",
            "privacy_data_leak",
            "account_compromise",
        ),
        (
            "Spam",
            "Since my purchase I get scam calls every day.",
            "privacy_data_leak",
            "scam_calls",
        ),
        # technical_fault
        ("App crashes", "The app crashes when I open my basket.", "technical_fault", "app_crash"),
        ("登不上", "账号登不上，一直提示密码错误。", "technical_fault", "login_failure"),
        ("支付不了", "小程序支付不了。", "technical_fault", "payment_failure"),
        ("网页报错", "下单页面报错 500。", "technical_fault", "website_error"),
        # service_attitude
        ("Rude cashier", "The cashier was rude to my mother.", "service_attitude", "rude_staff"),
        ("客服踢皮球", "打了三次电话客服一直踢皮球。", "service_attitude", "unresponsive"),
        ("捆绑销售", "办卡时被捆绑销售保险。", "service_attitude", "pushy_sales"),
        # process_policy
        ("退换货", "想问退换货需要什么手续。", "process_policy", "return_policy"),
        ("积分", "我的积分怎么少了一半。", "process_policy", "membership_points"),
        ("Warranty", "Is the warranty valid abroad?", "process_policy", "warranty_policy"),
        ("手续繁琐", "办理一个退押金手续繁琐，要跑三趟。", "process_policy", "cumbersome_process"),
    ],
)
def test_examples(subject: str, description: str, category: str, subcategory: str) -> None:
    result = classify(subject, description)
    assert (result.category, result.subcategory) == (category, subcategory)
    assert any(r.rule == f"category.{category}.{subcategory}" for r in result.rules_fired)


def test_fired_rule_names_the_rule_and_the_matched_words() -> None:
    result = classify("退款延迟", "")
    assert result.rules_fired[0].rule == "category.billing_refund.refund_delay"
    assert result.rules_fired[0].detail == "matched '退款延迟' in subject"


def test_no_match_is_other_with_low_confidence() -> None:
    result = classify("Nice weather today", "Nothing else to say.", "en")
    assert result.category == "other"
    assert result.subcategory == NO_MATCH_SUBCATEGORY == "unclassified"
    assert result.confidence == NO_MATCH_CONFIDENCE
    assert [r.rule for r in result.rules_fired] == ["category.other.no_match"]


def test_a_row_fires_once_however_often_its_words_repeat() -> None:
    once = classify("退款", "")
    many = classify("退款退款退款", "退款")
    assert once.rules_fired == many.rules_fired[: len(once.rules_fired)]


def test_privacy_policy_question_is_not_a_leak() -> None:
    assert classify("请问隐私政策在哪里查看", "").category == "process_policy"
    assert classify("Where is your privacy policy?", "", "en").category == "process_policy"


def test_refund_money_is_not_a_late_delivery() -> None:
    assert classify("退货后退款一直没到", "").category == "billing_refund"


def test_ties_follow_the_category_precedence() -> None:
    rules = (
        KeywordRule("technical_fault", None, 2, Lexicon(["账号"])),
        KeywordRule("privacy_data_leak", None, 2, Lexicon(["资料"])),
    )
    result = KeywordClassifier(rules).classify(subject="账号资料", description="", language="zh-CN")
    assert result.category == "privacy_data_leak"
    assert result.confidence == 0.5
    assert result.rules_fired[-1].rule == "category.tie_break"


def test_custom_precedence() -> None:
    rules = (
        KeywordRule("technical_fault", None, 2, Lexicon(["账号"])),
        KeywordRule("privacy_data_leak", None, 2, Lexicon(["资料"])),
    )
    classifier = KeywordClassifier(rules, precedence=("technical_fault",))
    result = classifier.classify(subject="账号资料", description="", language="zh-CN")
    assert result.category == "technical_fault"


def test_confidence_grows_with_the_margin() -> None:
    clear = classify("退款延迟", "")
    contested = classify("退款延迟", "快递员态度恶劣")
    assert 0.5 <= contested.confidence < clear.confidence <= 0.95


def test_subcategory_is_the_heaviest_specific_rule() -> None:
    # refund_delay (3) and refund_request (2) both fire; the stronger one names it.
    assert classify("退款迟迟不到", "").subcategory == "refund_delay"


def test_keyword_classifier_satisfies_the_protocol() -> None:
    classifier: Classifier = KeywordClassifier()
    assert classifier.classify(subject="x", description="y", language="en").category == "other"


_FRAGMENTS = sorted({p for rule in DEFAULT_RULES for p in rule.lexicon.patterns if p.isalnum()})


@given(
    st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=15)), max_size=8),
    st.text(max_size=30),
)
def test_classification_is_deterministic_and_valid(parts: list[str], subject: str) -> None:
    description = " ".join(parts)
    first = classify(subject, description)
    second = KeywordClassifier().classify(subject=subject, description=description, language="en")
    assert first == second
    assert first.category in CATEGORIES
    assert 0.0 <= first.confidence <= 1.0
    assert first.rules_fired
    if first.subcategory is not None:
        assert any(
            r.category == first.category and r.subcategory == first.subcategory
            for r in DEFAULT_RULES
        )


def test_rule_weights_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        KeywordRule("other", None, 0, Lexicon(["x"]))
