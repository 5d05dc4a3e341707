"""``python -m console.assets``: htmx and its SSE extension come from npm with a committed
lock file (pinned, exact versions) and are copied into the package; a machine without
Node.js gets a clear message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from console import assets

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def test_the_versions_are_pinned_exactly_and_locked() -> None:
    package = json.loads((ASSETS / "package.json").read_text("utf-8"))
    dependencies = package["dependencies"]
    assert set(dependencies) == {"htmx.org", "htmx-ext-sse"}
    assert all(v[0].isdigit() for v in dependencies.values())  # no ^ or ~
    assert dependencies["htmx.org"].startswith("2.")
    assert dependencies["htmx-ext-sse"].startswith("2.")
    lock = json.loads((ASSETS / "package-lock.json").read_text("utf-8"))
    for name, version in dependencies.items():
        locked = lock["packages"][f"node_modules/{name}"]
        assert locked["version"] == version
        assert locked["integrity"].startswith("sha512-")


def test_the_minified_files_are_copied_into_the_package(tmp_path: Path) -> None:
    modules = tmp_path / "node_modules"
    for source in assets.FILES:
        (modules / source).parent.mkdir(parents=True, exist_ok=True)
        (modules / source).write_text(f"/* {source.name} */", "utf-8")
    target = tmp_path / "vendor"
    written = assets.copy_vendor(modules, target)
    assert sorted(p.name for p in written) == ["htmx.min.js", "sse.min.js"]
    assert (target / "htmx.min.js").read_text("utf-8") == "/* htmx.min.js */"


def test_an_installed_node_modules_is_used_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "node_modules").mkdir()
    assert assets.install(tmp_path) == tmp_path / "node_modules"


def test_without_node_the_message_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "package-lock.json").write_text("{}", "utf-8")
    monkeypatch.setattr(assets.shutil, "which", lambda _name: None)
    with pytest.raises(assets.AssetsError, match=r"Node\.js and npm are needed"):
        assets.install(tmp_path)
    assert assets.main(["--assets", str(tmp_path), "--target", str(tmp_path / "v")]) == 1


def test_a_missing_lock_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(assets.AssetsError, match="not pinned"):
        assets.install(tmp_path)
