"""The internal API's answer: a code for notify's message."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class TrackingCodeOut(BaseModel):
    """A one-time code, for notify only (its own token), readable once."""

    request_id: str
    code: str = Field(description="6 digits; this answer is the only time it is readable")
    expires_at: datetime = Field(description="After this the code opens nothing")
