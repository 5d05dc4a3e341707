"""The category rule table (§4): the keyword classifier's data, kept apart from its logic.

The table is long and changes for different reasons than the scoring does (a new phrase
customers use, not a new way of weighing evidence), so it lives here as plain data and
``routing.domain.classification`` turns each row into a ``KeywordRule``. Rows for
delivery_logistics, technical_fault, service_attitude and process_policy are in
``routing.domain.service_category_rules``, to keep each file readable.
"""

from __future__ import annotations

from typing import TypeAlias

from complaint_contracts.vocabulary import Category

from routing.domain.lexicon import PRIVACY_LEAK, SAFETY
from routing.domain.rules import Lexicon
from routing.domain.service_category_rules import SERVICE_CATEGORY_RULE_ROWS

# (category, subcategory, weight, patterns); subcategory None marks a generic context row.
# Patterns are a shared Lexicon where one exists, so the rules cannot drift apart.
RuleRow: TypeAlias = tuple[Category, str | None, int, Lexicon | tuple[str, ...]]

# Weights: 3 = a phrase that names the problem, 2 = a strong word, 1 = context only.
# Within a category, the heaviest fired row with a subcategory names the subcategory
# (the first such row in table order on a tie).
RULE_ROWS: tuple[RuleRow, ...] = (
    # -- privacy_data_leak
    ("privacy_data_leak", "personal_data_leak", 3, PRIVACY_LEAK),
    (
        "privacy_data_leak",
        "account_compromise",
        3,
        (
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
    ),
    (
        "privacy_data_leak",
        "scam_calls",
        2,
        (
            "诈骗电话",
            "骚扰电话",
            "诈骗短信",
            "骚扰短信",
            r"(scam|spam|fraudulent) "
            r"(calls?|texts?|messages?|e-?mails?)",
            r"phishing",
        ),
    ),
    (
        "privacy_data_leak",
        None,
        1,
        (
            "个人信息",
            "隐私",
            "住址",
            "身份证",
            r"personal (data|information|details)",
            r"privacy",
            r"home address",
        ),
    ),
    # -- product_quality
    ("product_quality", "safety_hazard", 3, SAFETY),
    (
        "product_quality",
        "counterfeit",
        3,
        (
            "假货",
            "不是正品",
            "仿冒",
            "山寨",
            r"counterfeit",
            r"fake",
            r"not genuine",
        ),
    ),
    (
        "product_quality",
        "defect",
        2,
        (
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
    ),
    (
        "product_quality",
        "damaged_item",
        2,
        (
            "碎了",
            "摔坏",
            "损坏",
            r"damaged",
            r"smashed",
            r"shattered",
            r"scratched",
            r"dented",
        ),
    ),
    (
        "product_quality",
        "not_as_described",
        2,
        (
            "与描述不符",
            "色差",
            "货不对板",
            "实物与图片",
            r"not as described",
            r"different from the (picture|photo|description)",
        ),
    ),
    (
        "product_quality",
        None,
        1,
        (
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
    ),
    # -- billing_refund
    (
        "billing_refund",
        "refund_delay",
        3,
        (
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
    ),
    (
        "billing_refund",
        "price_mismatch",
        3,
        (
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
    ),
    (
        "billing_refund",
        "overcharge",
        3,
        (
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
    ),
    (
        "billing_refund",
        "refund_request",
        2,
        (
            "退款",
            "退钱",
            "退费",
            r"refund(s|ed)?",
            r"money back",
            r"reimburse(ment|d)?",
        ),
    ),
    ("billing_refund", "invoice", 2, ("发票", "开票", r"invoices?", r"receipts?")),
    (
        "billing_refund",
        None,
        1,
        (
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
    ),
    # -- delivery_logistics, technical_fault, service_attitude, process_policy
    *SERVICE_CATEGORY_RULE_ROWS,
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
