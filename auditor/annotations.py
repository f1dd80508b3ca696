"""What failed, said where people look: a list after the summary table, and CI annotations.

Under GitHub Actions (``GITHUB_ACTIONS=true``) each gated finding becomes an ``::error`` workflow command,
shown on the run page and, with a file and line, on the pull request's diff. Under Azure Pipelines
(``TF_BUILD=True``) it becomes a ``##vso[task.logissue type=error]`` logging command, shown in the run's
issues. Values are escaped as each runner's own toolkit escapes them: GitHub's actions/toolkit
(``packages/core/src/command.ts``: ``%`` CR LF in data, also ``:`` and ``,`` in properties) and Microsoft's
azure-pipelines-task-lib (``node/taskcommand.ts``: ``%`` as ``%AZP25``, CR LF in data, also ``]`` and ``;``
in properties).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from auditor.model import Finding
from auditor.terminal import printable, table

SHOWN = 20
# GitHub displays at most 10 error annotations per step and 50 per job; more are dropped without notice.
ANNOTATED = 50
MESSAGE_WIDTH = 160
ELLIPSIS = "…"
_LINE_BREAK = re.compile(r"(\r|\n)")


@dataclass(frozen=True)
class Failure:
    """One gated finding as the list and the annotations show it."""

    control_id: str
    severity: str
    status: str
    title: str
    where: str
    message: str
    file: str | None
    line: int | None
    end_line: int | None


def failures(findings: Sequence[Finding]) -> list[Failure]:
    """The findings, most severe first, as failures to show; every string made safe to print."""
    ordered = sorted(findings, key=lambda f: (-f.severity.rank, f.control_id, f.resource_id))
    return [_failure(f) for f in ordered]


def _failure(finding: Finding) -> Failure:
    location = finding.location
    if location is not None:
        where = f"{location.file}:{location.start_line}"
        if location.address:
            where += f" ({location.address})"
    else:
        where = finding.resource_name or "(control)"
    return Failure(
        control_id=printable(finding.control_id),
        severity=finding.severity.value,
        status=finding.status.value,
        title=printable(finding.title),
        where=printable(where),
        message=_lines_printable(finding.message),
        file=printable(location.file) if location else None,
        line=location.start_line if location else None,
        end_line=location.end_line if location else None,
    )


def failure_lines(gated: Sequence[Failure], *, shown: int = SHOWN) -> list[str]:
    """The list after the summary table: the first ``shown`` gated findings and how many more there are."""
    if not gated:
        return []
    rows = [(f.severity, f.status, f.control_id, f.where, _short(f.message)) for f in gated[:shown]]
    lines = ["", f"gated findings ({len(gated)}):", *table(("severity", "status", "control", "where", "message"), rows)]
    if len(gated) > shown:
        lines.append(f"… and {len(gated) - shown} more (every finding is in the reports)")
    return lines


def ci_annotations(gated: Sequence[Failure], environment: Mapping[str, str]) -> list[str]:
    """Workflow commands for the CI the environment says this runs in; none outside CI."""
    if environment.get("GITHUB_ACTIONS") == "true":
        return github_annotations(gated)
    if environment.get("TF_BUILD", "").lower() == "true":
        return azure_devops_annotations(gated)
    return []


def github_annotations(gated: Sequence[Failure], *, limit: int = ANNOTATED) -> list[str]:
    """``::error file=…,line=…,endLine=…,title=…::message`` per failure, then a warning for those left out."""
    lines = []
    for failure in gated[:limit]:
        properties = {"title": f"{failure.control_id} ({failure.severity}): {failure.title}"}
        if failure.file is not None:
            properties |= {"file": failure.file, "line": str(failure.line), "endLine": str(failure.end_line)}
        listed = ",".join(f"{key}={_github_property(value)}" for key, value in properties.items())
        lines.append(f"::error {listed}::{_github_data(_annotation_message(failure))}")
    if len(gated) > limit:
        lines.append(f"::warning::{len(gated) - limit} more gated finding(s) are not annotated; see the reports")
    return lines


def azure_devops_annotations(gated: Sequence[Failure], *, limit: int = ANNOTATED) -> list[str]:
    """``##vso[task.logissue type=error;sourcepath=…;linenumber=…;code=…]message`` per failure."""
    lines = []
    for failure in gated[:limit]:
        properties = {"type": "error"}
        if failure.file is not None:
            properties |= {"sourcepath": failure.file, "linenumber": str(failure.line)}
        properties["code"] = failure.control_id
        listed = ";".join(f"{key}={_azure_property(value)}" for key, value in properties.items())
        message = f"{failure.control_id} ({failure.severity}): {failure.title}: {_annotation_message(failure)}"
        lines.append(f"##vso[task.logissue {listed}]{_azure_data(message)}")
    if len(gated) > limit:
        more = f"{len(gated) - limit} more gated finding(s) are not annotated; see the reports"
        lines.append(f"##vso[task.logissue type=warning]{more}")
    return lines


def _annotation_message(failure: Failure) -> str:
    # A file annotation already says where; a live finding names its resource in the text.
    return failure.message if failure.file is not None else f"{failure.where}: {failure.message}"


def _lines_printable(text: str) -> str:
    # Line breaks survive (the annotations escape them); every other control or bidi character does not.
    return "".join(part if part in ("\r", "\n") else printable(part) for part in _LINE_BREAK.split(text))


def _short(message: str) -> str:
    one_line = " ".join(message.split())
    return one_line if len(one_line) <= MESSAGE_WIDTH else one_line[: MESSAGE_WIDTH - 1] + ELLIPSIS


def _github_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def _azure_data(text: str) -> str:
    return text.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def _azure_property(text: str) -> str:
    return _azure_data(text).replace("]", "%5D").replace(";", "%3B")
