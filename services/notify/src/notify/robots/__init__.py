"""Staff notices to team group chats through incoming-webhook robots (issue 15).

Holds, for WeCom group robots, DingTalk custom robots and Feishu/Lark custom bots: the
vendor-neutral notice (``domain.notice``), each vendor's pure renderer and request builder
with its signature (``domain.wecom``, ``domain.dingtalk``, ``domain.feishu``), the pure
classification of the vendors' answers (``domain.outcomes``) and one httpx adapter that posts
a built request (``adapters``).

Not wired yet: nothing in notify's delivery loop, API, settings or bootstrap imports this
package; a later session connects it (per-team robot URL and secret in settings).
"""
