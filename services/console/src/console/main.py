"""The console's app factory: ``uvicorn --factory console.main:create_app``."""

from __future__ import annotations

from complaint_runtime.service import build_app
from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware

from console import messaging
from console.board.actions_api import router as task_actions_router
from console.board.api import router as board_router
from console.bootstrap import MIGRATIONS, Dependencies, build_dependencies
from console.cases.actions_api import router as case_tools_router
from console.cases.api import router as cases_router
from console.config import ConsoleSettings
from console.live.api import router as live_router
from console.queue.api import router as queue_router
from console.signin.api import router as signin_router
from console.web.errors import UnexpectedErrorPage, install_page_handlers
from console.web.rendering import STATIC
from console.web.security import SecurityHeadersMiddleware
from console.web.session import SESSION_COOKIE, csrf_protect

# MIGRATIONS: the deploy's migration job imports it from here.
__all__ = ["MIGRATIONS", "create_app"]


def create_app(
    settings: ConsoleSettings | None = None, *, dependencies: Dependencies | None = None
) -> FastAPI:
    deps = dependencies or build_dependencies(settings or ConsoleSettings())
    settings = deps.settings
    runtime = deps.runtime
    runtime.consume(
        topics=messaging.CONSUMED, handlers=messaging.handlers(deps), apply_batch_at_once=True
    )
    loop = deps.prune_loop
    runtime.run_in_background("live-prune", loop.run, stop=loop.stop)
    app = build_app(
        runtime=runtime,
        title="Complaint console",
        description=(
            "The agents', leads' and managers' web application: queues, the case page, "
            "the lead's board, live updates."
        ),
        routers=[
            signin_router,
            queue_router,
            cases_router,
            case_tools_router,
            board_router,
            task_actions_router,
            live_router,
        ],
        # Every POST of every route needs the session's CSRF token: none can forget it.
        dependencies=[Depends(csrf_protect)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_page_handlers(app)
    # Innermost (add_middleware would put it outermost, outside the session it draws with).
    app.user_middleware.append(Middleware(UnexpectedErrorPage))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(
        SessionMiddleware,
        secret_key=deps.session_secret,
        session_cookie=SESSION_COOKIE,
        max_age=settings.console_session_max_age_s,
        same_site="lax",
        https_only=settings.console_cookie_secure,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.state.dependencies = deps
    return app
