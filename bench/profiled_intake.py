"""Intake wrapped for profiling: ``uvicorn --factory profiled_intake:create_app``.

``POST /__bench/profile/start`` turns cProfile on (after start-up, so imports and migrations
are not in the profile); ``POST /__bench/profile/stop`` turns it off and writes the stats to
``$BENCH_PROFILE_OUT``. Everything intake does on its event loop in between is profiled:
requests, the outbox relay and the projection consumer.
"""

from __future__ import annotations

import cProfile
import os

from intake.main import create_app as create_intake
from starlette.types import ASGIApp, Receive, Scope, Send


def create_app() -> ASGIApp:
    inner = create_intake()
    profiler = cProfile.Profile()
    out = os.environ.get("BENCH_PROFILE_OUT", "intake.prof")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path in ("/__bench/profile/start", "/__bench/profile/stop"):
            if path.endswith("start"):
                profiler.enable()
            else:
                profiler.disable()
                profiler.dump_stats(out)
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await inner(scope, receive, send)

    return app
