"""The category keyword table (§4): the keyword classifier's data, kept apart from its logic.

The table is long and changes for different reasons than the scoring does (a new phrase
customers use, not a new way of weighing evidence), so it lives here as plain data and
``routing.triage.domain.classification`` turns each row into a ``KeywordRule``. Only the
privacy rows are here; the other categories' rows are in ``keyword_table_product``,
``keyword_table_billing``, ``keyword_table_delivery_technical`` and
``keyword_table_conduct_policy``, to keep each file readable. A sub-category may have
several rows of different weights (a phrase that names the problem, a weaker paraphrase);
a row still fires at most once.
"""

from __future__ import annotations

from typing import TypeAlias

from complaint_contracts.vocabulary import Category

from routing.triage.domain.keyword_table_billing import BILLING_KEYWORD_ROWS
from routing.triage.domain.keyword_table_conduct_policy import CONDUCT_POLICY_KEYWORD_ROWS
from routing.triage.domain.keyword_table_delivery_technical import DELIVERY_TECHNICAL_KEYWORD_ROWS
from routing.triage.domain.keyword_table_product import PRODUCT_KEYWORD_ROWS
from routing.triage.domain.lexicon import PRIVACY_LEAK
from routing.triage.domain.matching import Lexicon

# (category, subcategory, weight, patterns); subcategory None marks a generic context row.
# Patterns are a shared Lexicon where one exists, so the rules cannot drift apart.
KeywordRow: TypeAlias = tuple[Category, str | None, int, Lexicon | tuple[str, ...]]

# Weights: 3 = a phrase that names the problem, 2 = a strong word, 1 = context only.
# Within a category, the heaviest fired row with a subcategory names the subcategory
# (the first such row in table order on a tie).
KEYWORD_ROWS: tuple[KeywordRow, ...] = (
    # -- privacy_data_leak
    ("privacy_data_leak", "personal_data_leak", 3, PRIVACY_LEAK),
    (
        "privacy_data_leak",
        "personal_data_leak",
        2,
        # Data reaching someone it should not, told without the word 泄露 / "leak".
        (
            "(信息|资料|数据|号码|手机号|电话|地址|住址)[^。!?,\n]{0,6}(被)?"
            "(卖|告诉|透露|给了|交给|传给|泄)",
            "(知道|报出|说出)(了)?我的(姓名|名字|地址|住址|电话|手机号|订单)",
            "(看到|看见)[^。!?,\n]{0,8}(别人|另一个人|其他人|陌生人)的(订单|信息|地址|资料)",
            "(别人|其他人|陌生人)[^。!?,\n]{0,4}(能|可以)?看到我的",
            "(当众|大声)[^。!?,\n]{0,6}(念|读|说)",
            "拿到我的(资料|信息|电话|号码)",
            r"shared my (personal )?(address|details|data|information|number|email)",
            r"(gave|passed|sold|handed) my (personal )?(address|details|data|information|number)",
            r"third[- ]part(y|ies)",
            r"knows? (exactly )?(what i (bought|ordered)|where i live|my (name|address|order))",
            r"(my|our|personal) (details|data|information) (were|was|are|is) "
            r"(exposed|visible|shared)",
            r"other (customers|people)'?s? (addresses|details|e-?mails|data|orders|names)",
            r"(cc|to) field",
            r"(read|said|shouted) (out|aloud) my",
            r"read out my",
            r"(full|whole|entire) card number",
            r"all (sixteen|16) digits",
            r"(medical|health) (details|information|records|condition)",
            r"(someone else's|another (customer|person)'s) (orders?|details|address|account)",
        ),
    ),
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
            "(账号|账户)[^。!?,\n]{0,8}(被人|被别人)",
            "(外省|外地|国外|陌生(的)?设备|不认识的(设备|手机))[^。!?,\n]{0,6}登录",
            "登录记录",
            "密码[^。!?,\n]{0,4}被(人)?(改|修改)",
            "(余额|积分|钱|礼品卡)[^。!?,\n]{0,4}被(人|别人)",
            "(我)?从来没(有)?(买|下单|消费)过",
            "不是我(本人)?(买|下|消费|操作)的",
            r"hacked",
            r"account (was |has been |got )?(compromised|stolen|taken over|hijacked)",
            r"someone (else )?(logged in|logged into|accessed|used|spent|changed)",
            r"spent by someone",
            r"unauthori[sz]ed (login|access|orders?|purchases?)",
            r"(orders?|purchases?) (that )?i (never|did not|didn't) (place|make|made|placed)",
            r"(never|did not|didn't) (place|make) (them|these|those|that|this)",
            r"(changed|reset) (my )?(password|e-?mail( address)?) (without|to one)",
            r"(unknown|unrecogni[sz]ed|strange) (device|login|sign-?in)",
            r"(balance|points|gift card)[^.!?\n]{0,20}(stolen|spent by|used by|drained)",
        ),
    ),
    (
        "privacy_data_leak",
        "scam_calls",
        3,
        (
            "诈骗电话",
            "骚扰电话",
            "诈骗短信",
            "骚扰短信",
            "冒充",
            "假冒(客服|工作人员)",
            "(贷款|广告|营销|推广)[^。!?,\n]{0,4}(短信|电话)",
            "让我转账",
            r"(scam|spam|fraudulent|marketing|junk) "
            r"(calls?|texts?|messages?|e-?mails?)",
            r"phishing",
            r"fake (calls?|callers?|texts?|sms|e-?mails?|websites?|support)",
            r"pretending to be",
            r"impersonat(ed|ing|or)",
            r"asked (me )?for my (bank )?(pin|password|card|code)",
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
            "资料",
            r"personal (data|information|details)",
            r"privacy",
            r"home address",
            r"my details",
        ),
    ),
    # -- product_quality, billing_refund
    *PRODUCT_KEYWORD_ROWS,
    *BILLING_KEYWORD_ROWS,
    # -- delivery_logistics, technical_fault
    *DELIVERY_TECHNICAL_KEYWORD_ROWS,
    # -- service_attitude, process_policy, other
    *CONDUCT_POLICY_KEYWORD_ROWS,
)

# Rows whose words state a fault that a preceding negation denies (没有漏电, "not
# damaged", "no sparks"). Rows whose patterns carry their own negation (没收到, "never
# arrived") or name a wish (退款) are not here: a negation there IS the complaint.
NEGATABLE: frozenset[tuple[Category, str]] = frozenset(
    {
        ("privacy_data_leak", "personal_data_leak"),
        ("privacy_data_leak", "account_compromise"),
        ("product_quality", "safety_hazard"),
        ("product_quality", "counterfeit"),
        ("product_quality", "defect"),
        ("product_quality", "damaged_item"),
        ("delivery_logistics", "damaged_in_transit"),
        ("service_attitude", "rude_staff"),
        ("privacy_data_leak", "scam_calls"),
    }
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
