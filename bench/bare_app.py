"""The baseline: the same request body model as intake, no middleware, no I/O.

``uvicorn --app-dir bench bare_app:app``. ``POST /v1/complaints`` validates a ``ComplaintIn``
exactly as intake does and answers 201 with a body shaped like intake's, built in memory.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from intake.complaints.schemas import ComplaintIn

app = FastAPI(title="bare baseline")


@app.get("/readyz")
async def readyz() -> dict[str, str]:
    return {"status": "ready"}


@app.post("/v1/complaints", status_code=201)
async def post_complaint(complaint: ComplaintIn) -> JSONResponse:
    complaint_id = str(uuid.uuid4())
    token = secrets.token_urlsafe(24)
    body = {
        "id": complaint_id,
        "reference": "C-00000000-000000",
        "status": "received",
        "tracking_token": token,
        "tracking_url": f"http://127.0.0.1/t/{token}",
        "received_at": datetime.now(UTC).isoformat(),
        "channel": complaint.channel,
    }
    return JSONResponse(body, status_code=201, headers={"Location": f"/v1/complaints/{body['id']}"})
