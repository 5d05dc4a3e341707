"""Staff notices to team group chats through incoming-webhook robots (issue 15).

Holds, for WeCom group robots, DingTalk custom robots and Feishu/Lark custom bots: the
vendor-neutral notice (``domain.notice``), each vendor's pure renderer and request builder
with its signature (``domain.wecom``, ``domain.dingtalk``, ``domain.feishu``), the pure
classification of the vendors' answers (``domain.outcomes``), the robot per team parsed from
``NOTIFY_ROBOTS`` (``domain.directory``), the vendors' documented rate bounds
(``domain.ratebound``), one httpx adapter that posts a built request (``adapters``) and the
channel itself, ``sender.RobotSender`` (``Sender[OutgoingRobotNotice]``), built by
``sender.make_robot_sender`` in the composition root.
"""
