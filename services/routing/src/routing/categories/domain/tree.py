"""The category tree of §4 as data: eight fixed top-level codes, each with sub-categories.

The top-level codes are the event contract's ``Category`` literal and cannot change at
run time (consumers downstream switch on them). Sub-categories can: an administrator adds
new ones, relabels built-in ones and gives any of them extra keywords, which the keyword
classifier turns into rules (``routing.triage.domain.classification.rules_for_tree``). The
built-in sub-categories are the ones the keyword table in ``keyword_table`` names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from complaint_contracts.vocabulary import CATEGORIES, Category

DEFAULT_KEYWORD_WEIGHT = 2


@dataclass(frozen=True, slots=True)
class Labels:
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Subcategory:
    code: str
    labels: Labels
    keywords: tuple[str, ...] = ()  # literal words (not patterns) added by an administrator
    weight: int = DEFAULT_KEYWORD_WEIGHT  # of the rule the keywords make (1..3)
    builtin: bool = True


@dataclass(frozen=True, slots=True)
class CategoryNode:
    code: Category
    labels: Labels
    subcategories: tuple[Subcategory, ...]

    def subcategory(self, code: str) -> Subcategory | None:
        return next((s for s in self.subcategories if s.code == code), None)


@dataclass(frozen=True, slots=True)
class SubcategoryRow:
    """An administrator's change as stored: a new sub-category, or an override of a
    built-in one (new labels, extra keywords)."""

    category: str
    code: str
    label_zh: str
    label_en: str
    keywords: tuple[str, ...] = ()
    weight: int = DEFAULT_KEYWORD_WEIGHT


@dataclass(frozen=True, slots=True)
class CategoryTree:
    categories: tuple[CategoryNode, ...]
    version: int = 0  # bumped by every administrative change; 0 is the built-in tree
    _by_code: dict[str, CategoryNode] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {c.code: c for c in self.categories})

    def node(self, code: str) -> CategoryNode | None:
        return self._by_code.get(code)

    def keywords(self) -> tuple[str, ...]:
        return tuple(k for c in self.categories for s in c.subcategories for k in s.keywords)

    def with_rows(self, rows: Iterable[SubcategoryRow], *, version: int) -> CategoryTree:
        """This tree with the stored changes applied; rows for unknown top-level codes
        are ignored (they cannot be written, see the admin API)."""
        nodes: dict[str, CategoryNode] = {c.code: c for c in self.categories}
        for row in rows:
            node = nodes.get(row.category)
            if node is None:
                continue
            labels = Labels(zh=row.label_zh, en=row.label_en)
            existing = node.subcategory(row.code)
            if existing is not None:
                updated = replace(existing, labels=labels, keywords=row.keywords, weight=row.weight)
                subs = tuple(updated if s.code == row.code else s for s in node.subcategories)
            else:
                added = Subcategory(row.code, labels, row.keywords, row.weight, builtin=False)
                subs = (*node.subcategories, added)
            nodes[row.category] = replace(node, subcategories=subs)
        return CategoryTree(tuple(nodes[c] for c in CATEGORIES if c in nodes), version=version)


def _subs(*rows: tuple[str, str, str]) -> tuple[Subcategory, ...]:
    return tuple(Subcategory(code, Labels(zh, en)) for code, zh, en in rows)


DEFAULT_TREE = CategoryTree(
    (
        CategoryNode(
            "product_quality",
            Labels("产品质量", "Product quality"),
            _subs(
                ("safety_hazard", "安全隐患", "Safety hazard"),
                ("counterfeit", "假冒伪劣", "Counterfeit"),
                ("defect", "质量缺陷", "Defect or malfunction"),
                ("damaged_item", "商品损坏", "Damaged item"),
                ("not_as_described", "与描述不符", "Not as described"),
            ),
        ),
        CategoryNode(
            "service_attitude",
            Labels("服务态度", "Service attitude"),
            _subs(
                ("rude_staff", "态度恶劣", "Rude staff"),
                ("unresponsive", "推诿不理", "Unresponsive or evasive"),
                ("pushy_sales", "强制推销", "Pushy or misleading sales"),
            ),
        ),
        CategoryNode(
            "delivery_logistics",
            Labels("物流配送", "Delivery and logistics"),
            _subs(
                ("late_delivery", "配送延迟", "Late delivery"),
                ("lost_parcel", "丢件", "Lost parcel"),
                ("damaged_in_transit", "运输破损", "Damaged in transit"),
                ("wrong_item", "错发漏发", "Wrong or missing item"),
                ("delivery_options", "配送服务", "Delivery options"),
            ),
        ),
        CategoryNode(
            "billing_refund",
            Labels("价格与退款", "Billing and refunds"),
            _subs(
                ("refund_delay", "退款延迟", "Refund delayed"),
                ("refund_request", "退款申请", "Refund request"),
                ("overcharge", "多收费", "Overcharge"),
                ("price_mismatch", "价格争议", "Price dispute"),
                ("invoice", "发票", "Invoice"),
            ),
        ),
        CategoryNode(
            "privacy_data_leak",
            Labels("隐私与数据泄露", "Privacy and data leak"),
            _subs(
                ("personal_data_leak", "个人信息泄露", "Personal data leak"),
                ("account_compromise", "账号被盗", "Account compromised"),
                ("scam_calls", "诈骗骚扰", "Scam or spam contact"),
            ),
        ),
        CategoryNode(
            "technical_fault",
            Labels("技术故障", "Technical fault"),
            _subs(
                ("app_crash", "应用崩溃", "App crash"),
                ("login_failure", "登录失败", "Login failure"),
                ("payment_failure", "支付失败", "Payment failure"),
                ("website_error", "网站报错", "Website error"),
            ),
        ),
        CategoryNode(
            "process_policy",
            Labels("流程与政策", "Process and policy"),
            _subs(
                ("return_policy", "退换货政策", "Return policy"),
                ("membership_points", "会员积分", "Membership and points"),
                ("warranty_policy", "保修政策", "Warranty policy"),
                ("cumbersome_process", "流程繁琐", "Cumbersome process"),
            ),
        ),
        CategoryNode(
            "other",
            Labels("其他", "Other"),
            _subs(
                ("suggestion", "建议", "Suggestion"),
                ("unclassified", "未分类", "Unclassified"),
            ),
        ),
    )
)
