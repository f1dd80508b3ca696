"""The scheduling examples run commands the auditor accepts, keep the history, and hold no secret values."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from auditor.cli import build_parser

EXAMPLES = Path(__file__).parent.parent / "examples"
SCHEDULED = sorted(EXAMPLES.glob("scheduled-*.yml"))


def auditor_commands(document: Any) -> list[list[str]]:
    """Every `auditor ...` command in the strings of a YAML document, as argument lists."""
    found: list[list[str]] = []
    if isinstance(document, dict):
        for value in document.values():
            found += auditor_commands(value)
    elif isinstance(document, list):
        for value in document:
            found += auditor_commands(value)
    elif isinstance(document, str):
        text = document.replace("\\\n", " ")
        for match in re.finditer(r"(?:^|[\s/&;])auditor ([^\n&;]+)", text):
            found.append(shlex.split(match.group(1)))
    return found


def test_there_is_an_example_for_each_scheduler() -> None:
    assert [p.name for p in SCHEDULED] == [
        "scheduled-azure-pipelines.yml",
        "scheduled-container-apps-job.yml",
        "scheduled-kubernetes.yml",
        "scheduled-scan.yml",
    ]


@pytest.mark.parametrize("path", SCHEDULED, ids=lambda p: p.name)
def test_every_auditor_command_parses_and_keeps_a_history(path: Path) -> None:
    documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    commands = [c for d in documents for c in auditor_commands(d)]
    assert commands, f"{path.name} runs no auditor command"
    text = path.read_text(encoding="utf-8")
    # The history comes from AUDITOR_HISTORY in every example, never from a URL on the command line.
    assert "AUDITOR_HISTORY" in text
    for command in commands:
        args = build_parser().parse_args(command)
        assert args.command == "scan"
        assert args.fail_on_new is not None
        assert all(
            target.split(":", 1)[1].startswith("env:") for target in args.notify if not target.startswith("email:")
        )
    # No secret values: URLs with credentials or webhook signatures are references, not literals.
    assert not re.search(r"postgresql://[^\s'\"]*:[^\s'\"@]+@", text.replace("...", ""))


def test_the_workflow_keeps_the_sqlite_file_in_the_cache_between_runs() -> None:
    workflow = yaml.safe_load((EXAMPLES / "scheduled-scan.yml").read_text(encoding="utf-8"))
    assert workflow[True]["schedule"][0]["cron"]  # `on:` is YAML 1.1's true
    steps = workflow["jobs"]["scan"]["steps"]
    uses = [step.get("uses", "") for step in steps]
    assert "actions/cache/restore@v4" in uses
    assert "actions/cache/save@v4" in uses
    restore = steps[uses.index("actions/cache/restore@v4")]["with"]
    save = steps[uses.index("actions/cache/save@v4")]["with"]
    assert restore["path"] == save["path"] == "history/"
    assert restore["restore-keys"] == "auditor-history-"
    assert workflow["jobs"]["scan"]["env"]["AUDITOR_HISTORY"].endswith("'history/auditor.db' }}")
