"""The platform's shared words: channels, tiers, languages, categories, priorities (§2, §4)."""

from __future__ import annotations

from typing import Literal

Channel = Literal["phone", "web", "app", "email", "wechat", "weibo", "chat", "store", "other"]
CHANNELS: tuple[Channel, ...] = (
    "phone",
    "web",
    "app",
    "email",
    "wechat",
    "weibo",
    "chat",
    "store",
    "other",
)
PreferredChannel = Literal[
    "phone", "sms", "email", "app", "wechat", "weibo", "chat", "store", "web", "other"
]
Tier = Literal["standard", "silver", "gold", "vip"]
Language = Literal["zh-CN", "en"]
Category = Literal[
    "product_quality",
    "service_attitude",
    "delivery_logistics",
    "billing_refund",
    "privacy_data_leak",
    "technical_fault",
    "process_policy",
    "other",
]
CATEGORIES: tuple[Category, ...] = (
    "product_quality",
    "service_attitude",
    "delivery_logistics",
    "billing_refund",
    "privacy_data_leak",
    "technical_fault",
    "process_policy",
    "other",
)
Priority = Literal["P1", "P2", "P3", "P4"]
PRIORITIES: tuple[Priority, ...] = ("P1", "P2", "P3", "P4")
EmotionLevel = Literal["blue", "yellow", "red"]
Status = Literal[
    "received",
    "triaged",
    "assigned",
    "in_progress",
    "awaiting_customer",
    "resolved",
    "awaiting_confirmation",
    "reopened",
    "closed",
]
SolutionType = Literal[
    "apology",
    "explanation",
    "refund",
    "compensation",
    "repair",
    "replacement",
    "process_fix",
    "other",
]
