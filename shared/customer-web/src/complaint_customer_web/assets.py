"""The pages' CSS and script, served by each service from this package (the wheel ships
them) at ``/assets/customer.css`` and ``/assets/customer.js``. Pages link them with
``?v=<content hash>`` and the answer to that exact version is cached for a year
(``immutable``): a phone on a slow network loads them once, and a new release, whose hash
differs, is fetched at once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

STATIC: Final = Path(__file__).resolve().parent / "static"
FILES: Final = {"customer.css": "text/css; charset=utf-8", "customer.js": "text/javascript"}
LONG_CACHE: Final = "public, max-age=31536000, immutable"
SHORT_CACHE: Final = "public, max-age=300"


@dataclass(frozen=True)
class Asset:
    name: str
    media_type: str
    body: bytes

    @property
    def version(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:12]

    @property
    def url(self) -> str:
        return f"/assets/{self.name}?v={self.version}"


def load_assets(directory: Path = STATIC) -> dict[str, Asset]:
    """Read once at start: the files never change while a process runs."""
    return {
        name: Asset(name, media_type, (directory / name).read_bytes())
        for name, media_type in FILES.items()
    }


@dataclass(frozen=True)
class AssetUrls:
    """What a template links: ``assets.css``, ``assets.js``."""

    css: str
    js: str


def asset_urls(assets: dict[str, Asset]) -> AssetUrls:
    return AssetUrls(css=assets["customer.css"].url, js=assets["customer.js"].url)


def asset_routes(assets: dict[str, Asset]) -> list[Route]:
    """``GET /assets/<name>``: the current version with a year's cache when the request
    names it, a short cache otherwise (an old page asking for an old version gets the
    current file, not a year of it)."""

    async def serve(request: Request) -> Response:
        asset = assets.get(request.path_params["name"])
        if asset is None:
            return Response("Not found", status_code=404, media_type="text/plain")
        etag = f'"{asset.version}"'
        cache = LONG_CACHE if request.query_params.get("v") == asset.version else SHORT_CACHE
        headers = {"Cache-Control": cache, "ETag": etag}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)

    return [Route("/assets/{name}", serve, methods=["GET", "HEAD"])]
