"""The AsyncAPI document passes the official AsyncAPI parser (@asyncapi/parser, Node.js).

Needs Node.js (20 or later) and npm. The parser is installed with `npm ci` from the
committed package-lock.json into asyncapi-check/node_modules (git-ignored) on first use.
A missing Node.js is a failure, not a skip: the document is a published contract.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from complaint_contracts import generate

CHECK_DIR = generate.SCHEMAS_DIR / "asyncapi-check"
DOCUMENT = generate.SCHEMAS_DIR / generate.ASYNCAPI_FILE_NAME
Validate = Callable[[Path], subprocess.CompletedProcess[str]]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"`{name}` is not on PATH. The AsyncAPI document is validated with the official "
            "AsyncAPI parser, which runs on Node.js: install Node.js 20+ with npm "
            "(e.g. apt-get install nodejs npm) and run the tests again.",
            pytrace=False,
        )
    return path


def _install_parser() -> str:
    """Check Node.js and npm, install the parser if needed; returns the node executable."""
    node = _tool("node")
    npm = _tool("npm")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    major = int(version.stdout.strip().lstrip("v").split(".")[0])
    if major < 20:
        pytest.fail(f"Node.js 20+ needed for @asyncapi/parser, found {version.stdout.strip()}")
    if not (CHECK_DIR / "node_modules" / "@asyncapi" / "parser" / "package.json").is_file():
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=CHECK_DIR,
            capture_output=True,
            text=True,
            timeout=270,
        )
        if result.returncode != 0:
            pytest.fail(
                f"`npm ci` in {CHECK_DIR} failed (exit {result.returncode}); the AsyncAPI "
                f"parser could not be installed:\n{result.stdout}\n{result.stderr}",
                pytrace=False,
            )
    return node


@pytest.fixture(scope="module")
def validate() -> Validate:
    """Runs validate.mjs on a document; sets the parser up on first use, inside the test,
    so a missing Node.js fails the test (it is not a setup error, and never a skip)."""
    node: list[str] = []

    def run(document: Path) -> subprocess.CompletedProcess[str]:
        if not node:
            node.append(_install_parser())
        return subprocess.run(
            [node[0], "validate.mjs", str(document)],
            cwd=CHECK_DIR,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def test_document_is_valid_asyncapi(validate: Validate) -> None:
    result = validate(DOCUMENT)
    assert result.returncode == 0, (
        f"@asyncapi/parser rejects {DOCUMENT}:\n{result.stdout}\n{result.stderr}"
    )
    assert "VALID: AsyncAPI 3.0.0" in result.stdout
    document = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    channels = len(document["channels"])
    assert f"with {channels} channels, {channels} operations" in result.stdout


def _break_action(document: dict) -> None:
    next(iter(document["operations"].values()))["action"] = "publish"


def _break_payload_ref(document: dict) -> None:
    document["components"]["messages"]["ComplaintReceived"]["payload"] = {
        "$ref": "#/components/schemas/NoSuchSchema"
    }


def _break_schema(document: dict) -> None:
    schema = document["components"]["schemas"]["ComplaintReceived"]
    schema["properties"]["complaint_id"]["type"] = "uuid"


def _break_channel(document: dict) -> None:
    document["operations"]["send-complaints-intake-v1"]["channel"] = {
        "$ref": "#/channels/no-such-channel"
    }


@pytest.mark.parametrize(
    "breakage", [_break_action, _break_payload_ref, _break_schema, _break_channel]
)
def test_parser_rejects_a_broken_document(
    validate: Validate, tmp_path: Path, breakage: Callable[[dict], None]
) -> None:
    document = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    breakage(document)
    broken = tmp_path / "asyncapi.yaml"
    broken.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    result = validate(broken)
    assert result.returncode == 1, f"the parser accepted a broken document:\n{result.stdout}"
    assert "INVALID" in result.stdout
    assert "error " in result.stdout
