"""Category classification (§4) behind a small interface, with a keyword implementation.

The keyword classifier is deliberately simple and explainable: a table of rules, each a
(category, subcategory, weight, patterns) row. A row fires at most once, however many
of its patterns match, so repeating a word cannot outvote a different, specific signal.
A statistical classifier (jieba + model) can replace it behind ``Classifier``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from complaint_contracts.vocabulary import CATEGORIES, Category

from routing.domain.lexicon import PRIVACY_LEAK, SAFETY
from routing.domain.rules import FiredRule, Lexicon, matched, normalize


@dataclass(frozen=True, slots=True)
class Classification:
    category: Category
    subcategory: str | None
    confidence: float  # 0..1
    rules_fired: tuple[FiredRule, ...]


class Classifier(Protocol):
    def classify(self, *, subject: str, description: str, language: str) -> Classification: ...


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """A row of the rule table; ``subcategory`` None marks a generic context rule."""

    category: Category
    subcategory: str | None
    weight: int
    lexicon: Lexicon

    def __post_init__(self) -> None:
        # A zero or negative weight would let a "match" lower a score or divide by zero.
        if self.weight <= 0:
            raise ValueError(f"rule weight must be positive, got {self.weight}")

    @property
    def name(self) -> str:
        return f"category.{self.category}.{self.subcategory or 'keyword'}"


def _rule(category: Category, subcategory: str | None, weight: int, *patterns: str) -> KeywordRule:
    return KeywordRule(category, subcategory, weight, Lexicon(patterns))


# Weights: 3 = a phrase that names the problem, 2 = a strong word, 1 = context only.
# Within a category, the heaviest fired row with a subcategory names the subcategory
# (the first such row in table order on a tie).
DEFAULT_RULES: tuple[KeywordRule, ...] = (
    # -- privacy_data_leak
    KeywordRule("privacy_data_leak", "personal_data_leak", 3, PRIVACY_LEAK),
    _rule(
        "privacy_data_leak",
        "account_compromise",
        3,
        "账号被盗",
        "账户被盗",
        "被盗号",
        "盗刷",
        "异地登录",
        r"hacked",
        r"account (was |has been |got )?(compromised|stolen|taken over)",
        r"someone (else )?(logged in|logged into|accessed) my account",
        r"unauthori[sz]ed (login|access)",
    ),
    _rule(
        "privacy_data_leak",
        "scam_calls",
        2,
        "诈骗电话",
        "骚扰电话",
        "诈骗短信",
        "骚扰短信",
        r"(scam|spam|fraudulent) "
        r"(calls?|texts?|messages?|e-?mails?)",
        r"phishing",
    ),
    _rule(
        "privacy_data_leak",
        None,
        1,
        "个人信息",
        "隐私",
        "住址",
        "身份证",
        r"personal (data|information|details)",
        r"privacy",
        r"home address",
    ),
    # -- product_quality
    KeywordRule("product_quality", "safety_hazard", 3, SAFETY),
    _rule(
        "product_quality",
        "counterfeit",
        3,
        "假货",
        "不是正品",
        "仿冒",
        "山寨",
        r"counterfeit",
        r"fake",
        r"not genuine",
    ),
    _rule(
        "product_quality",
        "defect",
        2,
        "质量问题",
        "质量差",
        "坏了",
        "坏掉",
        "不工作",
        "不能用",
        "用不了",
        "没法用",
        "不制冷",
        "不加热",
        "不出水",
        "噪音",
        "异响",
        "漏水",
        "开裂",
        "裂了",
        "掉漆",
        "故障",
        "失灵",
        r"stopped working",
        r"(does not|doesn't|did not|didn't|no longer) work",
        r"not working",
        r"broke(n)?",
        r"defective",
        r"faulty",
        r"poor quality",
        r"low quality",
        r"fell apart",
        r"cracked",
        r"leak(s|ing)",
        r"smells? burnt",
        r"burnt smell",
        r"malfunction(s|ed|ing)?",
    ),
    _rule(
        "product_quality",
        "damaged_item",
        2,
        "碎了",
        "摔坏",
        "损坏",
        r"damaged",
        r"smashed",
        r"shattered",
        r"scratched",
        r"dented",
    ),
    _rule(
        "product_quality",
        "not_as_described",
        2,
        "与描述不符",
        "色差",
        "货不对板",
        "实物与图片",
        r"not as described",
        r"different from the (picture|photo|description)",
    ),
    _rule(
        "product_quality",
        None,
        1,
        "质量",
        "产品",
        "电器",
        "热水器",
        "冰箱",
        "洗衣机",
        "空调",
        "电饭煲",
        "吹风机",
        "充电器",
        "耳机",
        r"quality",
        r"products?",
        r"appliance",
        r"blender",
        r"kettle",
        r"heater",
        r"fridge",
        r"washing machine",
        r"charger",
        r"headphones",
        r"replacement",
        r"motor",
    ),
    # -- billing_refund
    _rule(
        "billing_refund",
        "refund_delay",
        3,
        "退款延迟",
        "退款迟迟",
        "退款[^。!?]{0,12}(没|未|还没)(有)?到账",
        "迟迟未到账",
        "还没退款",
        "没有退款",
        "未退款",
        "退款[^。!?]{0,6}(太慢|拖)",
        r"refund (is |was |has been )?(delayed|late|overdue)",
        r"delayed refund",
        r"(waiting|wait) (for|on) (my|the|a) refund",
        r"(haven't|have not|not|never) (yet )?(received|got|gotten) (my|the|a) refund",
    ),
    _rule(
        "billing_refund",
        "price_mismatch",
        3,
        "价格不符",
        "与宣传不符",
        "(和|与)宣传不一致",
        "虚假宣传",
        "价格欺诈",
        "差价",
        "保价",
        "标价",
        "价签",
        "免费[^。!?]{0,20}收了",
        "优惠(券)?(没|未)(有)?(用上|生效|抵扣)",
        r"price (mismatch|difference)",
        r"(different|higher) price",
        r"advertised (price|as free)",
        r"(coupon|discount) (was not|wasn't|not) applied",
        r"price (on|at) the (shelf|tag|website)",
    ),
    _rule(
        "billing_refund",
        "overcharge",
        3,
        "多扣",
        "多收",
        "重复扣款",
        "扣了两次",
        "乱收费",
        "额外收费",
        "收了[^。!?]{0,8}费",
        "莫名扣费",
        "自动续费",
        r"overcharg(e|ed|ing)",
        r"charged (me )?twice",
        r"double[- ]charged",
        r"charged (me )?(an |the )?(extra|again)",
        r"hidden (fees?|charges?)",
        r"unauthori[sz]ed (charges?|payments?|debits?)",
    ),
    _rule(
        "billing_refund",
        "refund_request",
        2,
        "退款",
        "退钱",
        "退费",
        r"refund(s|ed)?",
        r"money back",
        r"reimburse(ment|d)?",
    ),
    _rule("billing_refund", "invoice", 2, "发票", "开票", r"invoices?", r"receipts?"),
    _rule(
        "billing_refund",
        None,
        1,
        "价格",
        "收费",
        "扣款",
        "扣费",
        "账单",
        "付款",
        "金额",
        "费用",
        "钱",
        r"prices?",
        r"charge(d|s)?",
        r"bill(ed|ing)?",
        r"payments?",
        r"paid",
        r"fees?",
        r"money",
    ),
    # -- delivery_logistics
    _rule(
        "delivery_logistics",
        "lost_parcel",
        3,
        "丢件",
        "(包裹|快递|货物|件)丢(了|失)",
        "没(有)?收到(包裹|快递|货)",
        "未收到(包裹|快递|货)",
        "显示(已)?签收",
        "被冒领",
        r"lost (parcel|package)",
        r"(parcel|package) (was |got |has been )?lost",
        r"(did not|didn't|never) (receive|get) (my|the) (parcel|package|order)",
        r"(marked|shows?|showing) (as )?delivered",
    ),
    _rule(
        "delivery_logistics",
        "late_delivery",
        3,
        "配送延迟",
        "物流延迟",
        "发货慢",
        "物流慢",
        "送货慢",
        "延误",
        "(迟迟|还|一直)(没|不|未)发货",
        # 退货 is a return, and 到账 is money arriving, not goods.
        "(?<!退)(快递|包裹|货|订单)[^。!?]{0,6}(还|一直|迟迟)(没|未)(有)?(送)?到(?!账)",
        r"late delivery",
        r"delivery (is|was) late",
        r"(arrived|delivered) late",
        r"(has not|hasn't|have not|haven't|not) (yet )?(been )?(arrived|delivered|shipped)",
        r"delayed (delivery|shipment|parcel|package|order)",
        r"(delivery|shipment|parcel|package|order) (is |was |has been )?delayed",
    ),
    _rule(
        "delivery_logistics",
        "damaged_in_transit",
        3,
        "(外)?包装破损",
        "包裹破损",
        "暴力分拣",
        "运输(中|途中)损坏",
        r"damaged in transit",
        r"(box|package|parcel) (arrived |was )?(crushed|torn|damaged)",
        r"crushed (box|package|parcel)",
    ),
    _rule(
        "delivery_logistics",
        "wrong_item",
        3,
        "发错",
        "错发",
        "少发",
        "漏发",
        "货不对",
        r"wrong (item|product|size|colou?r)",
        r"(sent|received|got) (me )?the wrong",
        r"missing items?",
        r"items? (was |were )?missing",
    ),
    _rule(
        "delivery_logistics",
        "delivery_options",
        2,
        "配送时段",
        "夜间配送",
        "送货上门",
        "自提",
        "配送范围",
        "快递柜",
        r"delivery (slots?|times?|windows?|options?)",
        r"(evening|weekend) deliver(y|ies)",
        r"pick-?up points?",
        r"parcel lockers?",
    ),
    _rule(
        "delivery_logistics",
        None,
        1,
        "快递",
        "物流",
        "配送",
        "送货",
        "发货",
        "收货",
        "包裹",
        "签收",
        "运单",
        r"deliver(y|ies|ed)?",
        r"couriers?",
        r"parcels?",
        r"packages?",
        r"shipping",
        r"shipments?",
        r"tracking",
        r"shipped",
    ),
    # -- technical_fault
    _rule(
        "technical_fault",
        "app_crash",
        3,
        "闪退",
        "崩溃",
        "卡死",
        "白屏",
        "(app|软件|网站|网页|页面|小程序|系统)[^。!?]{0,4}打不开",
        r"crash(es|ed|ing)?",
        r"freez(es|ing)",
        r"froze",
        r"keeps closing",
        r"blank (screen|page)",
        r"(won't|will not|does not|doesn't) (open|load)",
    ),
    _rule(
        "technical_fault",
        "login_failure",
        3,
        "登录不了",
        "无法登录",
        "登不上",
        "登录失败",
        "不能登录",
        "收不到验证码",
        "验证码收不到",
        "账号被锁",
        r"(cannot|can't|unable to|could not|couldn't) (log ?in|sign ?in|access)",
        r"log ?in (fails|failed|error|problems?|issues?)",
        r"locked out",
    ),
    _rule(
        "technical_fault",
        "payment_failure",
        3,
        "支付失败",
        "付款失败",
        "无法支付",
        "支付不了",
        "付不了款",
        r"payment (failed|fails|failure|error|declined)",
        r"(cannot|can't|unable to) (pay|check ?out)",
        r"checkout (error|fails|failed)",
    ),
    _rule(
        "technical_fault",
        "website_error",
        3,
        "报错",
        "系统错误",
        "系统故障",
        "页面错误",
        "加载失败",
        "网络错误",
        "服务器",
        r"error (message|code)s?",
        r"error \d{3,4}",
        r"404",
        r"server error",
        r"(site|website|page) (is )?(down|not loading|broken)",
        r"bugs?",
        r"glitch(es)?",
    ),
    _rule(
        "technical_fault",
        None,
        1,
        "app",
        "软件",
        "系统",
        "网站",
        "网页",
        "小程序",
        "更新",
        "升级",
        "页面",
        "验证码",
        r"apps?",
        r"website",
        r"software",
        r"update",
        r"online",
        r"log ?in",
        r"sign ?in",
        r"password",
    ),
    # -- service_attitude
    _rule(
        "service_attitude",
        "rude_staff",
        3,
        "态度(恶劣|差|很差|非常差|太差|不好)",
        "呵斥",
        "辱骂",
        "骂人",
        "爱买不买",
        "甩脸色",
        "不耐烦",
        "冷嘲热讽",
        "翻白眼",
        r"rude",
        r"impolite",
        r"disrespectful",
        r"(shouted|yelled|screamed) at",
        r"unprofessional",
        r"condescending",
        r"insult(ed|ing)",
    ),
    _rule(
        "service_attitude",
        "unresponsive",
        2,
        "不理人",
        "不理睬",
        "没人理",
        "没人回复",
        "无人回复",
        "无人接听",
        "敷衍",
        "推诿",
        "踢皮球",
        "挂(断|了)(我的)?电话",
        r"(nobody|no one) (answers|answered|replies|replied|responds)",
        r"no (reply|response)",
        r"ignored",
        r"hung up",
        r"never (called|replied|got back)",
    ),
    _rule(
        "service_attitude",
        "pushy_sales",
        2,
        "强制推销",
        "强行推销",
        "捆绑销售",
        "误导消费",
        r"pushy",
        r"pressured me",
        r"mis-?sold",
    ),
    _rule(
        "service_attitude",
        None,
        1,
        "态度",
        "店员",
        "工作人员",
        "服务员",
        "导购",
        "销售人员",
        "客服人员",
        r"staff",
        r"employees?",
        r"cashier",
        r"salesperson",
        r"attitude",
    ),
    # -- process_policy
    _rule(
        "process_policy",
        "return_policy",
        3,
        "退货政策",
        "退换货",
        "(7|七)天无理由",
        "无理由退货",
        "退货期限",
        "退货流程",
        r"return policy",
        r"exchange policy",
        r"return window",
        r"return(ing)? (an? |the |my )?(unopened |used |opened |unused )?"
        r"(items?|products?|orders?|purchases?)",
    ),
    _rule(
        "process_policy",
        "membership_points",
        3,
        "会员",
        "积分",
        r"loyalty",
        r"points",
        r"membership",
        r"rewards?",
    ),
    _rule(
        "process_policy", "warranty_policy", 2, "保修", "质保", "三包", r"warranty", r"guarantee"
    ),
    _rule(
        "process_policy",
        "cumbersome_process",
        2,
        "手续繁琐",
        "流程(太)?复杂",
        "规定",
        "政策",
        "不合理",
        "押金",
        r"polic(y|ies)",
        r"procedures?",
        r"paperwork",
        r"too many steps",
        r"terms and conditions",
        r"rules?",
    ),
    _rule(
        "process_policy",
        None,
        1,
        "流程",
        "规则",
        "手续",
        "办理",
        "退货",
        r"process",
        r"how long",
        r"how many days",
        r"deadline",
        r"return",
    ),
)

# Tie-break: the category whose miss costs most comes first (a leak or a hazard left
# as "technical" would lose its P1); "other" is never a keyword winner.
CATEGORY_PRECEDENCE: tuple[Category, ...] = (
    "privacy_data_leak",
    "product_quality",
    "billing_refund",
    "delivery_logistics",
    "technical_fault",
    "service_attitude",
    "process_policy",
    "other",
)
NO_MATCH_CONFIDENCE = 0.2
# A keyword match is never certainty; a statistical model may earn more.
MAX_CONFIDENCE = 0.95


class KeywordClassifier:
    """Rules in Chinese and English; all rules run on every text, whatever its language,
    because customers mix them ("我的app闪退")."""

    def __init__(
        self,
        rules: Sequence[KeywordRule] = DEFAULT_RULES,
        precedence: Sequence[Category] = CATEGORY_PRECEDENCE,
    ) -> None:
        self._rules = tuple(rules)
        missing = set(CATEGORIES) - set(precedence)
        self._precedence = tuple(precedence) + tuple(c for c in CATEGORIES if c in missing)

    def classify(self, *, subject: str, description: str, language: str) -> Classification:
        text = normalize(f"{subject}\n{description}")
        fired: dict[Category, list[tuple[KeywordRule, tuple[str, ...]]]] = {}
        for rule in self._rules:
            fragments = rule.lexicon.find_all(text)
            if fragments:
                fired.setdefault(rule.category, []).append((rule, fragments))
        if not fired:
            return Classification(
                category="other",
                subcategory=None,
                confidence=NO_MATCH_CONFIDENCE,
                rules_fired=(FiredRule("category.other.no_match", "no category rule matched"),),
            )

        scores = {cat: sum(rule.weight for rule, _ in hits) for cat, hits in fired.items()}
        ranked = sorted(scores, key=lambda c: (-scores[c], self._precedence.index(c)))
        best = ranked[0]
        top = scores[best]
        runner_up = scores[ranked[1]] if len(ranked) > 1 else 0

        hits = fired[best]
        specific = [rule for rule, _ in hits if rule.subcategory is not None]
        subcategory = max(specific, key=lambda r: r.weight).subcategory if specific else None

        rules = [FiredRule(rule.name, matched(fragments)) for rule, fragments in hits]
        summary = f"{best}={top}" + (f", runner-up {ranked[1]}={runner_up}" if runner_up else "")
        rules.append(FiredRule("category.score", summary))
        if runner_up == top:
            rules.append(
                FiredRule("category.tie_break", f"{best} precedes {ranked[1]} on equal score")
            )
        # 0.5 on a tie (a coin toss between two categories), MAX_CONFIDENCE when no
        # other category scored at all.
        confidence = round(0.5 + (MAX_CONFIDENCE - 0.5) * (top - runner_up) / top, 2)
        return Classification(best, subcategory, confidence, tuple(rules))
