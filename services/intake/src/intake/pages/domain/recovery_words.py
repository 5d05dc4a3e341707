"""The lost-link pages' words in zh-CN and en (``{count}``: attempts left). The page that
follows a request says the same whether or not the details matched a complaint: "if they
match, we sent a code", never "no such complaint"."""

from __future__ import annotations

from typing import Final

from complaint_customer_web.language import Language

ZH: Final[dict[str, str]] = {
    "recover.lost_link": "找不到链接？凭受理编号找回",
    "recover.title": "找回投诉链接",
    "recover.intro": (
        "请输入受理编号，以及提交投诉时留下的邮箱或手机号。信息相符时，"
        "我们会把 6 位验证码发送到该投诉登记的邮箱。"
    ),
    "recover.reference.label": "受理编号",
    "recover.reference.hint": "见我们发给您的短信或邮件，例如 C-20261207-000042。",
    "recover.reference.empty": "请输入受理编号。",
    "recover.reference.invalid": "受理编号的格式不对，应类似 C-20261207-000042。",
    "recover.contact.label": "邮箱或手机号",
    "recover.contact.hint": "提交投诉时留下的邮箱地址或手机号码。",
    "recover.contact.empty": "请输入邮箱或手机号。",
    "recover.contact.invalid": "请输入有效的邮箱地址或手机号码。",
    "recover.fix": "请修改下方标出的内容：",
    "recover.submit": "发送验证码",
    "code.title": "输入验证码",
    "code.sent": (
        "如果受理编号和联系方式与投诉相符，我们已向该投诉登记的邮箱发送了 6 位验证码，"
        "10 分钟内有效。"
    ),
    "code.label": "6 位验证码",
    "code.hint": "请查看邮箱（也看看垃圾邮件）。验证码只能使用一次。",
    "code.submit": "确认",
    "code.invalid": "请输入邮件中的 6 位数字。",
    "code.wrong": "验证码不正确，还可以再试 {count} 次。",
    "code.exhausted": "验证码输错次数太多，已经失效。请重新获取验证码。",
    "code.expired": "验证码已过期或已使用。请重新获取验证码。",
    "code.again": "没有收到，或验证码已失效？重新获取",
    "done.recovered": (
        "欢迎回来。我们已为您生成新链接，旧链接已失效。请保存新链接（只显示这一次）："
    ),
}

EN: Final[dict[str, str]] = {
    "recover.lost_link": "Lost your link? Find it with your reference",
    "recover.title": "Find your complaint's link",
    "recover.intro": (
        "Enter your complaint's reference and the e-mail address or mobile number you gave "
        "with it. If they match, we send a 6-digit code to the complaint's e-mail address."
    ),
    "recover.reference.label": "Reference",
    "recover.reference.hint": (
        "It is in the text message or e-mail we sent you, e.g. C-20261207-000042."
    ),
    "recover.reference.empty": "Please enter your reference.",
    "recover.reference.invalid": "This is not a reference: it looks like C-20261207-000042.",
    "recover.contact.label": "E-mail address or mobile number",
    "recover.contact.hint": "The one you gave with your complaint.",
    "recover.contact.empty": "Please enter your e-mail address or mobile number.",
    "recover.contact.invalid": "Please enter a valid e-mail address or mobile number.",
    "recover.fix": "Please correct what is marked below:",
    "recover.submit": "Send me a code",
    "code.title": "Enter your code",
    "code.sent": (
        "If the reference and contact match a complaint, we have sent a 6-digit code to its "
        "e-mail address. It is valid for 10 minutes."
    ),
    "code.label": "6-digit code",
    "code.hint": "Check your inbox (and your spam folder). The code works once.",
    "code.submit": "Confirm",
    "code.invalid": "Please enter the 6 digits from the e-mail.",
    "code.wrong": "That code is not right. You can try {count} more times.",
    "code.exhausted": "Too many wrong codes: this one no longer works. Please ask for a new one.",
    "code.expired": "This code has expired or was already used. Please ask for a new one.",
    "code.again": "No code, or it no longer works? Ask for a new one",
    "done.recovered": (
        "Welcome back. Here is your new link; the old one no longer works. Keep it: it is "
        "shown only this once."
    ),
}

RECOVERY_WORDS: Final[dict[Language, dict[str, str]]] = {"zh-CN": ZH, "en": EN}
