"""Where the repository and its git-ignored download cache live."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def find_repo_root(start: Path | None = None) -> Path | None:
    """The nearest directory at or above ``start`` (default: cwd) holding ``uv.lock``."""
    candidates = [start or Path.cwd(), _PACKAGE_DIR]
    for origin in candidates:
        for directory in (origin.resolve(), *origin.resolve().parents):
            if (directory / "uv.lock").is_file():
                return directory
    return None


def cache_root() -> Path:
    """``$PLATFORM_CACHE_DIR``, else ``<repo>/.cache``, else a per-user cache."""
    configured = os.environ.get("PLATFORM_CACHE_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    root = find_repo_root()
    if root is not None:
        return root / ".cache"
    return Path.home() / ".cache" / "complaint-platform"


def kafka_pom_path() -> Path:
    """The committed pom that pins the broker version (shared/devinfra/kafka/pom.xml)."""
    # src/complaint_devinfra -> src -> shared/devinfra
    return _PACKAGE_DIR.parents[1] / "kafka" / "pom.xml"
