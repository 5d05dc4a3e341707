"""The survey and NPS pages' own words in zh-CN and en (the shared ones, buttons, footer
and error pages, are the customer-web package's). ``{time}`` is filled in the customer's
time zone; every key exists in both languages (a test checks)."""

from __future__ import annotations

from typing import Final

from complaint_customer_web.language import Language

ZH: Final[dict[str, str]] = {
    "page.reference": "受理编号",
    "page.times_in": "时间按 {zone} 显示。",
    "survey.title": "确认处理结果",
    "survey.intro": "我们已处理完您的投诉。请告诉我们问题是否已经解决，并为本次处理打分。",
    "survey.solved.legend": "您的问题解决了吗？",
    "survey.solved.yes": "已解决",
    "survey.solved.no": "没有解决",
    "survey.csat.legend": "您对本次处理满意吗？",
    "survey.csat.low": "1 = 非常不满意",
    "survey.csat.high": "5 = 非常满意",
    "survey.csat.1": "非常不满意",
    "survey.csat.2": "不满意",
    "survey.csat.3": "一般",
    "survey.csat.4": "满意",
    "survey.csat.5": "非常满意",
    "survey.comment.label": "还有什么想告诉我们的吗？（选填）",
    "survey.submit": "提交答复",
    "survey.expires": "此链接在 {time} 前有效，只能提交一次。",
    "survey.thanks.title": "感谢您的反馈",
    "survey.answered.title": "您已经回答过了",
    "survey.answered.when": "我们已于 {time} 收到您的答复。",
    "survey.outcome.confirmed": "您的投诉已关闭。感谢您的确认！",
    "survey.outcome.reopened": "我们已重新打开您的投诉，原处理人员会尽快再次联系您。",
    "survey.outcome.reopened.hint": "如需补充情况，可以在投诉进度页面给我们留言。",
    "survey.expired.title": "此调查已过期",
    "survey.expired.text": (
        "这个链接的有效期已过，不能再提交答复。没有答复的投诉已按规定自动结案；"
        "如果问题仍未解决，请联系客服或重新提交投诉。"
    ),
    "survey.closed.title": "此调查已结束",
    "survey.closed.text": (
        "这份调查已被新的调查代替，或投诉已经关闭，不需要再答复。请使用我们最近发给您的链接。"
    ),
    "nps.title": "您会推荐我们吗？",
    "nps.intro": "您最近在我们这里处理过投诉。我们想了解您的整体感受，只需要一分钟。",
    "nps.question": "您有多大可能向朋友或同事推荐我们？",
    "nps.scale.low": "0 = 完全不可能",
    "nps.scale.high": "10 = 非常可能",
    "nps.comment.label": "您打这个分数的主要原因是什么？（选填）",
    "nps.submit": "提交评分",
    "nps.expires": "此链接在 {time} 前有效，只能提交一次。",
    "nps.thanks.title": "感谢您的评分",
    "nps.thanks.text": "我们已收到您的评分（{score} 分），它会帮助我们改进服务。",
    "nps.answered.title": "您已经评过分了",
    "nps.answered.when": "我们已于 {time} 收到您的评分（{score} 分）。",
    "nps.expired.title": "此调查已过期",
    "nps.expired.text": "这个链接的有效期已过，不能再提交评分。感谢您的关注！",
    "nps.optout.title": "不想再收到这项调查？",
    "nps.optout.text": "选择后，我们不会再邀请您参加这项推荐度调查。您的投诉处理不受任何影响。",
    "nps.optout.submit": "不要再问我",
    "nps.optout.done": "好的，我们以后不会再邀请您参加这项调查。",
    "nps.optout.already": "您已选择不再接收这项调查。",
    "form.not_saved": "没有保存任何内容：",
    "form.comment.hint": "最多 2000 字。请勿填写密码、验证码或银行卡号。",
    "form.solved.missing": "请选择问题是否已经解决。",
    "form.solved.invalid": "“问题是否解决”的选项无效，请重新选择。",
    "form.csat.missing": "请选择 1 到 5 分的满意度。",
    "form.csat.invalid": "满意度只能是 1 到 5 分，请重新选择。",
    "form.score.missing": "请选择 0 到 10 分中的一个分数。",
    "form.score.invalid": "评分只能是 0 到 10 分，请重新选择。",
    "form.comment.too_long": "留言太长了：最多 2000 字。",
    "form.comment.nul": "留言中含有无法保存的空字符（NUL），已在下方删除，请检查后重新提交。",
    "form.comment.control": "留言中含有无法保存的控制字符，已在下方删除，请检查后重新提交。",
}

EN: Final[dict[str, str]] = {
    "page.reference": "Reference",
    "page.times_in": "Times are shown in {zone}.",
    "survey.title": "Is your complaint solved?",
    "survey.intro": (
        "We have finished working on your complaint. Please tell us whether the problem is "
        "solved and how we did."
    ),
    "survey.solved.legend": "Is your problem solved?",
    "survey.solved.yes": "Yes, it is solved",
    "survey.solved.no": "No, it is not solved",
    "survey.csat.legend": "How satisfied are you with how we handled it?",
    "survey.csat.low": "1 = very dissatisfied",
    "survey.csat.high": "5 = very satisfied",
    "survey.csat.1": "Very dissatisfied",
    "survey.csat.2": "Dissatisfied",
    "survey.csat.3": "Neutral",
    "survey.csat.4": "Satisfied",
    "survey.csat.5": "Very satisfied",
    "survey.comment.label": "Anything else you would like to tell us? (optional)",
    "survey.submit": "Send my answer",
    "survey.expires": "This link takes one answer, until {time}.",
    "survey.thanks.title": "Thank you for your answer",
    "survey.answered.title": "You have already answered",
    "survey.answered.when": "We received your answer on {time}.",
    "survey.outcome.confirmed": "Your complaint is closed. Thank you for confirming!",
    "survey.outcome.reopened": (
        "We reopened your complaint: the person who handled it will contact you again soon."
    ),
    "survey.outcome.reopened.hint": (
        "To add anything, write to us on your complaint's tracking page."
    ),
    "survey.expired.title": "This survey has expired",
    "survey.expired.text": (
        "The link's time is up, so it no longer takes an answer. A complaint nobody answered "
        "for is closed automatically; if your problem is not solved, please contact us or "
        "submit a new complaint."
    ),
    "survey.closed.title": "This survey is closed",
    "survey.closed.text": (
        "A newer survey replaced this one, or the complaint was closed, so no answer is "
        "needed here. Please use the link in our latest message."
    ),
    "nps.title": "Would you recommend us?",
    "nps.intro": (
        "You recently had a complaint handled by us. We would like to know how you feel "
        "about us overall: it takes a minute."
    ),
    "nps.question": "How likely are you to recommend us to a friend or colleague?",
    "nps.scale.low": "0 = not at all likely",
    "nps.scale.high": "10 = extremely likely",
    "nps.comment.label": "What is the main reason for your score? (optional)",
    "nps.submit": "Send my score",
    "nps.expires": "This link takes one answer, until {time}.",
    "nps.thanks.title": "Thank you for your score",
    "nps.thanks.text": "We received your score ({score}). It helps us improve.",
    "nps.answered.title": "You have already answered",
    "nps.answered.when": "We received your score ({score}) on {time}.",
    "nps.expired.title": "This survey has expired",
    "nps.expired.text": "The link's time is up, so it no longer takes a score. Thank you!",
    "nps.optout.title": "Rather not be asked again?",
    "nps.optout.text": (
        "We will not invite you to this survey again. It changes nothing in how we handle "
        "your complaints."
    ),
    "nps.optout.submit": "Don't ask me again",
    "nps.optout.done": "Done: we will not invite you to this survey again.",
    "nps.optout.already": "You asked not to be invited to this survey again.",
    "form.not_saved": "Nothing was saved:",
    "form.comment.hint": "Up to 2000 characters. Never enter passwords, codes or card numbers.",
    "form.solved.missing": "Please say whether your problem is solved.",
    "form.solved.invalid": "That answer to “solved?” is not one of the choices; please choose.",
    "form.csat.missing": "Please choose how satisfied you are, 1 to 5.",
    "form.csat.invalid": "Satisfaction is 1 to 5; please choose one of them.",
    "form.score.missing": "Please choose a score from 0 to 10.",
    "form.score.invalid": "A score is 0 to 10; please choose one of them.",
    "form.comment.too_long": "Your comment is too long: at most 2000 characters.",
    "form.comment.nul": (
        "Your comment had a NUL character that cannot be saved; it was removed below, please "
        "check and send again."
    ),
    "form.comment.control": (
        "Your comment had control characters that cannot be saved; they were removed below, "
        "please check and send again."
    ),
}

WORDS: Final[dict[Language, dict[str, str]]] = {"zh-CN": ZH, "en": EN}
