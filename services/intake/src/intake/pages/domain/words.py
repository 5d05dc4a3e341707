"""The tracking page's own words in zh-CN and en (the shared ones, status words and
buttons, are the customer-web package's). ``{time}`` and ``{date}`` are filled in the
customer's time zone; every key exists in both languages (a test checks)."""

from __future__ import annotations

from typing import Final

from complaint_customer_web.language import Language

ZH: Final[dict[str, str]] = {
    "page.title": "投诉进度",
    "page.reference": "受理编号",
    "page.subject": "主题",
    "page.status": "当前状态",
    "page.times_in": "时间按 {zone} 显示。",
    "promises.title": "承诺时限",
    "promise.first_response.label": "首次答复",
    "promise.resolution.label": "解决问题",
    "promise.pending": "正在安排，稍后显示",
    "promise.running": "{time} 前",
    "promise.late": "原定 {time} 前，已超时，我们正在加紧处理",
    "promise.paused": "暂停计时，等待您的回复",
    "promise.first_response.met": "已于 {time} 答复",
    "promise.first_response.breached": "已于 {time} 答复（晚于承诺时间）",
    "promise.resolution.met": "已于 {time} 解决",
    "promise.resolution.breached": "已于 {time} 解决（晚于承诺时间）",
    "next.first_response": "客服将在 {time} 前首次答复您。",
    "next.first_response_late": "我们原定在 {time} 前答复您，已经超时。很抱歉，我们正在加紧处理。",
    "next.reply": "我们将在 {time} 前回复您的留言。",
    "next.reply_late": "我们原定在 {time} 前回复您的留言，已经超时。很抱歉，我们正在加紧处理。",
    "next.resolution": "我们将在 {time} 前解决您的问题。",
    "next.resolution_late": (
        "我们原定在 {time} 前解决您的问题，已经超时。很抱歉，我们正在加紧处理。"
    ),
    "next.working": "我们正在处理您的投诉，稍后会告诉您承诺的处理时限。",
    "next.awaiting_you": "客服需要您的回复，请在下方留言。",
    "next.question": "客服的问题：",
    "next.latest": "客服的最新回复：",
    "next.resolved": (
        "我们已处理完毕，并请您确认问题是否已解决（请查看我们发给您的消息）。"
        "如仍未解决，请在下方留言。"
    ),
    "next.closed_reopen": "投诉已关闭。如仍有问题，请在 {date} 前留言，投诉将重新打开处理。",
    "next.closed_new": "投诉已关闭。现在留言将为您创建一个新的投诉，并与此投诉关联。",
    "next.withdrawn": "您已撤回此投诉，我们不会再处理它。如需帮助，请重新提交投诉。",
    "timeline.title": "处理进度",
    "timeline.empty": "暂无记录。",
    "timeline.reason": "原因：",
    "step.received": "已受理您的投诉",
    "step.assigned": "已安排专人处理",
    "step.first_response": "客服答复",
    "step.first_response_no_text": "客服已联系您",
    "step.reply": "客服回复",
    "step.reply_no_text": "客服已回复您",
    "step.question": "客服提问",
    "step.customer_message": "您的留言",
    "step.resumed": "继续处理",
    "step.resolved": "已解决",
    "step.confirmation_requested": "请您确认问题是否已解决",
    "step.confirmed": "您已确认问题解决",
    "step.reopened": "重新处理",
    "step.closed": "已关闭",
    "step.withdrawn": "您撤回了投诉",
    "step.duplicate": "与投诉 {reference} 合并处理",
    "form.message.title": "给客服留言",
    "form.message.label": "您的留言",
    "form.message.hint": "最多 10000 字。请勿填写密码、验证码或银行卡号。",
    "form.message.hint_reopen": "发送后，投诉将重新打开处理。",
    "form.message.hint_new": "发送后，将为您创建一个新的投诉。",
    "form.message.submit": "发送留言",
    "form.message.empty": "请输入留言内容。",
    "form.message.too_long": "留言太长了：最多 10000 字，您输入了 {count} 字。",
    "form.message.nul": "留言中含有无法保存的空字符（NUL），已在下方删除，请检查后重新发送。",
    "form.message.control": "留言中含有无法保存的控制字符，已在下方删除，请检查后重新发送。",
    "form.message.withdrawn": "此投诉已撤回，不能再留言。如需帮助，请重新提交投诉。",
    "form.reason.too_long": "原因太长了：最多 2000 字。",
    "form.reason.nul": "原因中含有无法保存的空字符（NUL），已在下方删除，请检查后重新发送。",
    "form.reason.control": "原因中含有无法保存的控制字符，已在下方删除，请检查后重新发送。",
    "form.resent": "这个表单已经发送过，新的内容没有保存。请检查下方内容后重新发送。",
    "form.not_saved": "未发送，没有保存任何内容：",
    "done.message": "留言已发送，我们会尽快回复您。",
    "done.reopened": "留言已发送，您的投诉已重新打开处理。",
    "done.follow_up": "原投诉 {reference} 已关闭较久，您的留言已创建新的投诉，就是本页面。",
    "done.withdrawn": "投诉已撤回。",
    "done.new_link": "已生成新链接，旧链接已失效。请保存新链接（只显示这一次）：",
    "done.follow_up_link": "新投诉的链接（请保存）：",
    "withdraw.title": "撤回投诉",
    "withdraw.text": "撤回后，我们将停止处理此投诉，也不能再留言。确定要撤回吗？",
    "withdraw.reason_label": "撤回原因（选填）",
    "withdraw.submit": "确认撤回",
    "withdraw.cancel": "不撤回，返回",
    "withdraw.link": "撤回投诉",
    "withdraw.closed": "此投诉已关闭，无需撤回。如仍有问题，请留言。",
    "more.title": "其他操作",
    "link.text": "如果链接可能被他人看到，可以生成新链接，旧链接会立即失效。",
    "link.submit": "生成新链接",
    "linked.related": "此投诉是投诉 {reference} 的后续。",
    "linked.follow_ups": "后续投诉：",
}

EN: Final[dict[str, str]] = {
    "page.title": "Your complaint",
    "page.reference": "Reference",
    "page.subject": "Subject",
    "page.status": "Status",
    "page.times_in": "Times are shown in {zone}.",
    "promises.title": "Our promised times",
    "promise.first_response.label": "First response",
    "promise.resolution.label": "Resolution",
    "promise.pending": "Being scheduled, shown shortly",
    "promise.running": "by {time}",
    "promise.late": "was due by {time}: we are late and on it",
    "promise.paused": "paused while we wait for your reply",
    "promise.first_response.met": "answered on {time}",
    "promise.first_response.breached": "answered on {time} (later than promised)",
    "promise.resolution.met": "resolved on {time}",
    "promise.resolution.breached": "resolved on {time} (later than promised)",
    "next.first_response": "We will first reply to you by {time}.",
    "next.first_response_late": "We promised to reply by {time} and are late. Sorry: we are on it.",
    "next.reply": "We will answer your message by {time}.",
    "next.reply_late": (
        "We promised to answer your message by {time} and are late. Sorry: we are on it."
    ),
    "next.resolution": "We aim to resolve your complaint by {time}.",
    "next.resolution_late": (
        "We promised to resolve your complaint by {time} and are late. Sorry: we are on it."
    ),
    "next.working": "We are on it and will show our promised times here shortly.",
    "next.awaiting_you": "We need your reply: please write to us below.",
    "next.question": "Our question:",
    "next.latest": "Our latest reply:",
    "next.resolved": (
        "We have resolved your complaint and asked you to confirm it (see our message to "
        "you). Not solved? Write to us below."
    ),
    "next.closed_reopen": (
        "This complaint is closed. Still a problem? Write to us by {date} and we will reopen it."
    ),
    "next.closed_new": (
        "This complaint is closed. A message now opens a new complaint, linked to this one."
    ),
    "next.withdrawn": (
        "You withdrew this complaint, so we no longer work on it. Need help again? Please "
        "submit a new complaint."
    ),
    "timeline.title": "Timeline",
    "timeline.empty": "Nothing yet.",
    "timeline.reason": "Reason:",
    "step.received": "We received your complaint",
    "step.assigned": "A member of our team is handling it",
    "step.first_response": "Our reply",
    "step.first_response_no_text": "We contacted you",
    "step.reply": "Our reply",
    "step.reply_no_text": "We replied to you",
    "step.question": "Our question to you",
    "step.customer_message": "Your message",
    "step.resumed": "We continued working on it",
    "step.resolved": "Resolved",
    "step.confirmation_requested": "We asked you to confirm it is solved",
    "step.confirmed": "You confirmed it is solved",
    "step.reopened": "Reopened",
    "step.closed": "Closed",
    "step.withdrawn": "You withdrew the complaint",
    "step.duplicate": "Handled together with complaint {reference}",
    "form.message.title": "Write to us",
    "form.message.label": "Your message",
    "form.message.hint": "Up to 10,000 characters. Never include passwords, codes or card numbers.",
    "form.message.hint_reopen": "Sending it reopens your complaint.",
    "form.message.hint_new": "Sending it opens a new complaint.",
    "form.message.submit": "Send message",
    "form.message.empty": "Please write your message.",
    "form.message.too_long": (
        "Your message is too long: at most 10,000 characters, you wrote {count}."
    ),
    "form.message.nul": (
        "Your message contained a NUL character, which cannot be saved: we removed it below. "
        "Please check it and send it again."
    ),
    "form.message.control": (
        "Your message contained control characters, which cannot be saved: we removed them "
        "below. Please check it and send it again."
    ),
    "form.message.withdrawn": (
        "This complaint was withdrawn and takes no more messages. Please submit a new complaint."
    ),
    "form.reason.too_long": "The reason is too long: at most 2,000 characters.",
    "form.reason.nul": (
        "The reason contained a NUL character, which cannot be saved: we removed it below. "
        "Please check it and send it again."
    ),
    "form.reason.control": (
        "The reason contained control characters, which cannot be saved: we removed them "
        "below. Please check it and send it again."
    ),
    "form.resent": (
        "This form was already sent, so the new text was not saved. Check it below and send "
        "it again."
    ),
    "form.not_saved": "Not sent, nothing was saved:",
    "done.message": "Message sent. We will get back to you soon.",
    "done.reopened": "Message sent: your complaint is open again.",
    "done.follow_up": (
        "Complaint {reference} was closed too long ago, so your message opened this new complaint."
    ),
    "done.withdrawn": "Your complaint is withdrawn.",
    "done.new_link": (
        "Here is your new link; the old one no longer works. Keep it: it is shown only this once."
    ),
    "done.follow_up_link": "The new complaint's link (keep it):",
    "withdraw.title": "Withdraw your complaint",
    "withdraw.text": (
        "Once withdrawn, we stop working on this complaint and it takes no more messages. "
        "Withdraw it?"
    ),
    "withdraw.reason_label": "Why? (optional)",
    "withdraw.submit": "Yes, withdraw",
    "withdraw.cancel": "No, go back",
    "withdraw.link": "Withdraw this complaint",
    "withdraw.closed": (
        "This complaint is already closed, there is nothing to withdraw. Still a problem? "
        "Write to us."
    ),
    "more.title": "Other actions",
    "link.text": (
        "If someone else may have seen your link, get a new one: the old one stops working at once."
    ),
    "link.submit": "Get a new link",
    "linked.related": "This complaint follows up complaint {reference}.",
    "linked.follow_ups": "Follow-up complaints:",
}

WORDS: Final[dict[Language, dict[str, str]]] = {"zh-CN": ZH, "en": EN}
