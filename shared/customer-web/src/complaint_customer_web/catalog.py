"""The words every customer page shares, in zh-CN and en: a complaint's status in plain
words, the buttons, the footer and the error pages. A service adds its own page's words
with :meth:`Catalog.with_messages`; a key missing in a language is a bug, caught by the
tests (:meth:`Catalog.missing`), never shown to a customer as a raw key at run time: the
other language's text is shown instead."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from complaint_customer_web.language import DEFAULT_LANGUAGE, LANGUAGES, Language

# The customer's status words (the UI guide): what the complaint is to them, not routing's
# internal state names.
STATUS_WORDS: Final[dict[Language, dict[str, str]]] = {
    "zh-CN": {
        "received": "已受理",
        "in_progress": "处理中",
        "awaiting_customer": "待您回复",
        "resolved": "已解决",
        "closed": "已关闭",
        "withdrawn": "已撤回",
    },
    "en": {
        "received": "Received",
        "in_progress": "Being handled",
        "awaiting_customer": "Waiting for you",
        "resolved": "Resolved",
        "closed": "Closed",
        "withdrawn": "Withdrawn",
    },
}

SHARED: Final[dict[Language, dict[str, str]]] = {
    "zh-CN": {
        "app.name": "投诉服务",
        "nav.skip": "跳到正文",
        "nav.language": "语言",
        "footer.privacy": "此页面仅供持有链接的您本人使用，请勿转发链接。",
        "footer.help": "如需帮助，请联系客服并提供受理编号。",
        "button.send": "发送",
        "button.cancel": "取消",
        "button.back": "返回",
        "button.confirm": "确认",
        "form.required": "必填",
        "error.not_found.title": "链接无效或已失效",
        "error.not_found.text": (
            "这个链接打不开：可能复制不完整，或者已经换成了新链接。"
            "请打开我们最近发给您的短信或邮件中的链接。"
        ),
        "error.signed_out.title": "请从链接打开此页面",
        "error.signed_out.text": "为保护您的信息，请点击我们发给您的短信或邮件中的链接重新打开。",
        "error.too_many.title": "操作太频繁",
        "error.too_many.text": "请稍等片刻再试。{seconds} 秒后可以再次操作。",
        "error.form_expired.title": "页面已过期",
        "error.form_expired.text": (
            "为了安全，这个表单没有被接受，也没有保存任何内容。请返回重新打开页面后再试。"
        ),
        "error.unavailable.title": "服务暂时不可用",
        "error.unavailable.text": "没有保存任何内容。请稍后再试。",
        "error.internal.title": "出错了",
        "error.internal.text": "很抱歉，页面出现了问题，没有保存任何内容。请稍后再试。",
        "error.invalid.title": "请求无效",
        "error.invalid.text": "这个请求无法处理。请返回页面重试。",
    },
    "en": {
        "app.name": "Complaint service",
        "nav.skip": "Skip to content",
        "nav.language": "Language",
        "footer.privacy": "This page is for you, the holder of the link: please do not forward it.",
        "footer.help": "Need help? Contact our service desk and quote your reference.",
        "button.send": "Send",
        "button.cancel": "Cancel",
        "button.back": "Back",
        "button.confirm": "Confirm",
        "form.required": "required",
        "error.not_found.title": "This link does not work",
        "error.not_found.text": (
            "It may have been copied only in part, or replaced by a new link. "
            "Please open the link in the latest text message or e-mail we sent you."
        ),
        "error.signed_out.title": "Please open this page from your link",
        "error.signed_out.text": (
            "To protect your information, open the page again from the link in the text "
            "message or e-mail we sent you."
        ),
        "error.too_many.title": "Too many requests",
        "error.too_many.text": "Please wait a moment: you can try again in {seconds} seconds.",
        "error.form_expired.title": "This page has expired",
        "error.form_expired.text": (
            "For your security the form was not accepted and nothing was saved. "
            "Please go back, reload the page and try again."
        ),
        "error.unavailable.title": "Temporarily unavailable",
        "error.unavailable.text": "Nothing was saved. Please try again in a little while.",
        "error.internal.title": "Something went wrong",
        "error.internal.text": (
            "Sorry, the page ran into a problem and nothing was saved. Please try again later."
        ),
        "error.invalid.title": "Request not understood",
        "error.invalid.text": "This request could not be handled. Please go back and try again.",
    },
}


@dataclass(frozen=True)
class Catalog:
    """The words of the pages, per language (the shared ones plus a service's)."""

    messages: Mapping[Language, Mapping[str, str]] = field(
        default_factory=lambda: {language: dict(SHARED[language]) for language in LANGUAGES}
    )

    def with_messages(self, extra: Mapping[Language, Mapping[str, str]]) -> Catalog:
        """This catalog with a service's own words added (they win over shared ones)."""
        return Catalog(
            {
                language: {**self.messages.get(language, {}), **extra.get(language, {})}
                for language in LANGUAGES
            }
        )

    def text(self, language: Language, key: str, **values: object) -> str:
        """The words for ``key``, with ``{name}`` filled in from ``values``."""
        found = self.messages.get(language, {}).get(key)
        if found is None:
            found = self.messages[DEFAULT_LANGUAGE].get(key, key)
        return found.format(**values) if values else found

    def missing(self) -> dict[Language, set[str]]:
        """Keys one language has and another lacks (for the tests)."""
        keys = {language: set(self.messages.get(language, {})) for language in LANGUAGES}
        every = set().union(*keys.values())
        return {language: every - own for language, own in keys.items() if every - own}


def status_word(status: str, language: Language) -> str:
    """The plain word for one of the customer's statuses (:data:`STATUS_WORDS`' keys)."""
    return STATUS_WORDS[language].get(status, STATUS_WORDS[language]["in_progress"])


@dataclass(frozen=True)
class Translator:
    """The catalog bound to one page's language, as templates use it (``t("key")``)."""

    catalog: Catalog
    language: Language

    def t(self, key: str, **values: object) -> str:
        return self.catalog.text(self.language, key, **values)

    def status(self, status: str) -> str:
        return status_word(status, self.language)
