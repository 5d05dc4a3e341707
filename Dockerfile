# syntax=docker/dockerfile:1
# One image for all six services (intake, routing, sla-watch, feedback, notify, console).
# Each Kubernetes Deployment picks its service with its `command`
# (uvicorn --factory <package>.main:create_app ...); without one, the image runs the service
# named by SERVICE_MODULE (build-arg or env; default intake).
#
#   docker build -t complaint-platform:dev .
#   docker run --rm -e SERVICE_MODULE=routing -p 8000:8000 complaint-platform:dev
#
# No secrets are built in: every secret is an environment variable set at run time.
# The console's browser libraries (htmx, its SSE extension) come from npm's lock file in a
# Node.js stage and ship inside the console's wheel; nothing is fetched from a CDN, and the
# runtime image has no Node.js.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
# The official Node.js image, pinned by major version (the LTS line console.assets needs).
ARG NODE_MAJOR=20

# ---- console-assets: htmx and htmx-ext-sse from services/console/assets/package-lock.json ----
FROM node:${NODE_MAJOR}-bookworm-slim AS console-assets
WORKDIR /assets
COPY services/console/assets/package.json services/console/assets/package-lock.json ./
# Exactly the locked versions, checked against the lock file's integrity hashes; no install
# scripts run. (What `python -m console.assets` does on a laptop.)
RUN npm ci --ignore-scripts --no-audit --no-fund

# ---- build: the locked dependencies and the workspace packages into /app/.venv -------------
FROM ${PYTHON_IMAGE} AS build
# The uv version the Makefile pins, from PyPI.
ARG UV_VERSION=0.13.9
# 1: also install the optional triage model's stack (scikit-learn, skops) for
# TRIAGE_CLASSIFIER=model; the default image classifies with the rules only.
ARG WITH_TRIAGE_MODEL=0
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    UV_NO_CACHE=1
WORKDIR /src

# Third-party dependencies first (a layer that only changes with the lock file).
COPY pyproject.toml uv.lock ./
COPY shared/schemas/pyproject.toml shared/schemas/
COPY shared/runtime/pyproject.toml shared/runtime/
COPY shared/devinfra/pyproject.toml shared/devinfra/
COPY shared/customer-web/pyproject.toml shared/customer-web/
COPY services/intake/pyproject.toml services/intake/
COPY services/routing/pyproject.toml services/routing/
COPY services/sla-watch/pyproject.toml services/sla-watch/
COPY services/feedback/pyproject.toml services/feedback/
COPY services/notify/pyproject.toml services/notify/
COPY services/console/pyproject.toml services/console/
# Only the services' dependencies: no development group (tests, linters, the local Kafka and
# PostgreSQL launcher), no triage model unless WITH_TRIAGE_MODEL=1.
RUN uv sync --frozen --no-default-groups \
      $( [ "$WITH_TRIAGE_MODEL" = 1 ] && echo --group triage-model ) --no-install-workspace

# Then the workspace packages themselves, installed as wheels (not editable): the runtime
# image needs /app/.venv only, not the sources.
COPY shared/ shared/
COPY services/ services/
# The console's vendor files (git-ignored, and kept out of the build context by .dockerignore)
# from the npm stage, where console.assets puts them: the wheel ships them as hatch artifacts.
COPY --from=console-assets /assets/node_modules/htmx.org/dist/htmx.min.js \
     services/console/src/console/static/vendor/htmx.min.js
COPY --from=console-assets /assets/node_modules/htmx-ext-sse/dist/sse.min.js \
     services/console/src/console/static/vendor/sse.min.js
RUN uv sync --frozen --no-default-groups \
      $( [ "$WITH_TRIAGE_MODEL" = 1 ] && echo --group triage-model ) --no-editable \
 && test -s /app/.venv/lib/python3.11/site-packages/console/static/vendor/htmx.min.js \
 && test -s /app/.venv/lib/python3.11/site-packages/console/static/vendor/sse.min.js

# ---- runtime ----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE_MODULE=intake
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin app
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SERVICE_MODULE=${SERVICE_MODULE}
WORKDIR /app
# Numeric, so Kubernetes can verify runAsNonRoot.
USER 10001:10001
EXPOSE 8000
CMD ["sh", "-c", "exec uvicorn --factory \"${SERVICE_MODULE}.main:create_app\" --host 0.0.0.0 --port 8000 --no-access-log"]
