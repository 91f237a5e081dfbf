"""The image's promises, read from the Dockerfile (no Docker engine here to build it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

DOCKERFILE = Path(__file__).resolve().parents[2] / "Dockerfile"


def _stages() -> dict[str, list[str]]:
    """{stage name: its instructions}, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"FROM\s+\S+\s+AS\s+(\S+)", line, re.IGNORECASE)
        if match:
            current = stages.setdefault(match.group(1), [])
        current.append(line)
    return stages


def test_the_image_is_multi_stage_and_the_last_stage_is_the_runtime() -> None:
    stages = _stages()
    assert len(stages) >= 3
    assert list(stages)[-1] == "runtime"


def test_the_runtime_runs_as_a_non_root_user() -> None:
    users = [line.split()[1] for line in _stages()["runtime"] if line.startswith("USER ")]
    assert users
    assert users[-1] not in ("root", "0")


def test_the_runtime_has_a_healthcheck_on_healthz() -> None:
    (check,) = [line for line in _stages()["runtime"] if line.startswith("HEALTHCHECK")]
    command = json.loads(check[check.index("CMD") + 3 :].strip())
    assert "/healthz" in command[-1]
    compile(command[-1], "healthcheck", "exec")  # the inline Python is valid


def test_the_runtime_has_no_compilers_or_test_tools() -> None:
    runtime = " ".join(_stages()["runtime"])
    for tool in ("gcc", "build-essential", "pytest", "chromium"):
        assert tool not in runtime
