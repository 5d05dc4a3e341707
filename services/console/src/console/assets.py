"""``python -m console.assets``: put htmx and its SSE extension into the package.

The two browser libraries come from npm, pinned in ``services/console/assets/package.json``
with a committed ``package-lock.json`` (integrity hashes): this runs ``npm ci
--ignore-scripts`` there when ``node_modules`` is missing, then copies the two minified
files into ``console/static/vendor/`` (git-ignored), from where the console serves them
itself; no page loads anything from a CDN. The Makefile and the Dockerfile call it before
the console starts or is packaged; it needs Node.js and npm only then, never at run time.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

from console.web.rendering import VENDOR

ASSETS: Final = Path(__file__).resolve().parents[2] / "assets"
# node_modules path → the name the pages load it by
FILES: Final = {
    Path("htmx.org/dist/htmx.min.js"): "htmx.min.js",
    Path("htmx-ext-sse/dist/sse.min.js"): "sse.min.js",
}


class AssetsError(RuntimeError):
    """Why the browser libraries could not be put in place (shown to whoever ran it)."""


def install(assets: Path = ASSETS, *, force: bool = False) -> Path:
    """``npm ci --ignore-scripts`` in ``assets`` unless its ``node_modules`` is there (or
    ``force``); returns the ``node_modules`` directory."""
    modules = assets / "node_modules"
    if modules.is_dir() and not force:
        return modules
    if not (assets / "package-lock.json").is_file():
        raise AssetsError(f"{assets}/package-lock.json is missing: the versions are not pinned")
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise AssetsError(
            "Node.js and npm are needed to install the console's browser libraries "
            "(htmx, htmx-ext-sse): install Node.js 20 or later, or copy htmx.min.js and "
            f"sse.min.js into {VENDOR} yourself."
        )
    result = subprocess.run(  # noqa: S603 (npm found on PATH, fixed arguments)
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=assets,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise AssetsError(f"npm ci failed in {assets}:\n{result.stderr[-2000:]}")
    return modules


def copy_vendor(modules: Path, target: Path = VENDOR) -> list[Path]:
    """Copy the minified files into ``target``; returns the files written."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for source, name in FILES.items():
        path = modules / source
        if not path.is_file():
            raise AssetsError(f"{path} is missing: run again with --force to reinstall")
        shutil.copyfile(path, target / name)
        written.append(target / name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="run npm ci even if installed")
    parser.add_argument(
        "--assets",
        type=Path,
        default=ASSETS,
        help="the directory of package.json (default: %(default)s)",
    )
    parser.add_argument(
        "--target", type=Path, default=VENDOR, help="where the files go (default: %(default)s)"
    )
    arguments = parser.parse_args(argv)
    try:
        written = copy_vendor(install(arguments.assets, force=arguments.force), arguments.target)
    except AssetsError as exc:
        sys.stderr.write(f"console assets: {exc}\n")
        return 1
    sys.stdout.write("".join(f"console assets: {path}\n" for path in written))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
