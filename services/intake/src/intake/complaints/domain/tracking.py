"""Tracking tokens: the credential that opens one complaint to its customer. Intake keeps its
SHA-256 hash to check it, and an encrypted copy because notify puts the link in messages."""

from __future__ import annotations

import hashlib
import secrets


def new_tracking_token() -> str:
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tracking_url(public_base_url: str, complaint_id: str, token: str) -> str:
    return f"{public_base_url}/v1/complaints/{complaint_id}?token={token}"
