"""Interrupted runs: SIGINT and SIGTERM at ten points of a demo leave --out verifiable and no staging folder."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor import staging as staging_module
from auditor.cli import main
from auditor.interrupts import EXIT_INTERRUPTED, EXIT_TERMINATED, deferred
from auditor.manifest import verify_folder
from auditor.staging import StagingError, staged_folder
from tests.pausing_run import POINTS

ROOT = Path(__file__).resolve().parent.parent
# Points at which the new reports are already in place: the interrupt comes after the swap.
AFTER_SWAP = {"swapping", "summary"}
EXPECTED_EXIT: dict[int, int] = {signal.SIGINT: EXIT_INTERRUPTED, signal.SIGTERM: EXIT_TERMINATED}

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


@pytest.fixture(scope="module")
def previous_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete demo report, JSON only, so a run that replaced it is told apart by its report.html."""
    folder = tmp_path_factory.mktemp("previous") / "report"
    assert main(["demo", "--out", str(folder), "--format", "json", "--quiet"]) == 0
    assert verify_folder(folder).ok
    return folder


def snapshot_of(folder: Path) -> dict[str, bytes]:
    """Every file of a folder by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def runs() -> Iterator[subprocess.Popen[str]]:
    """The process that forks one paused demo per request (see tests/pausing_run.py)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with subprocess.Popen(
        [sys.executable, "-m", "tests.pausing_run"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as server:
        assert server.stdout is not None and server.stdout.readline() == "ready\n"
        yield server
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=60)


def run_paused(runs: subprocess.Popen[str], point: str, signum: int, out: Path, control: Path) -> tuple[int, str]:
    """A demo paused at the point, sent the signal there, then released; its exit status and stderr."""
    assert runs.stdin is not None and runs.stdout is not None
    control.mkdir()
    argv = ["demo", "--out", str(out), "--format", "html,json"]
    request = {"point": point, "control": str(control), "cwd": str(out.parent), "argv": argv}
    runs.stdin.write(json.dumps(request) + "\n")
    runs.stdin.flush()
    pid = int(runs.stdout.readline())
    deadline = time.monotonic() + 120
    while not (control / "paused").exists():
        assert time.monotonic() < deadline, f"the run never reached {point}: {(control / 'stderr').read_text()}"
        time.sleep(0.01)
    os.kill(pid, signum)
    (control / "release").touch()
    ended = runs.stdout.readline()
    assert ended.startswith("exit "), ended
    return int(ended.split()[1]), (control / "stderr").read_text(encoding="utf-8")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("point", list(POINTS))
def test_an_interrupted_demo_leaves_a_report_that_verifies(
    point: str, signum: int, previous_report: Path, runs: subprocess.Popen[str], tmp_path: Path
) -> None:
    out = tmp_path / "work" / "report"
    out.parent.mkdir()
    shutil.copytree(previous_report, out)
    before = snapshot_of(out)
    status, stderr = run_paused(runs, point, signum, out, tmp_path / "control")
    assert status == EXPECTED_EXIT[signum], stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("auditor: ")
    verification = verify_folder(out)
    assert verification.ok, verification.problems
    assert sorted(p.name for p in out.parent.iterdir()) == ["report"]  # no staging or previous folder beside it
    if point in AFTER_SWAP:
        assert (out / "report.html").is_file()  # the new run, whole
    else:
        assert snapshot_of(out) == before  # the previous run, untouched


# --- the staging folder in-process -----------------------------------------------------------------------


def test_a_failing_run_leaves_the_previous_folder_and_no_staging(tmp_path: Path) -> None:
    out = tmp_path / "report"
    out.mkdir()
    (out / "findings.json").write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), staged_folder(out, {"findings.json"}) as staging:
        (staging / "findings.json").write_text("new", encoding="utf-8")
        raise RuntimeError
    assert (out / "findings.json").read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report"]


def test_a_successful_run_replaces_the_folder_whole(tmp_path: Path) -> None:
    out = tmp_path / "report"
    out.mkdir(mode=0o750)
    out.chmod(0o750)
    (out / "report.html").write_text("old", encoding="utf-8")
    with staged_folder(out, {"report.html", "findings.json"}) as staging:
        assert staging.parent == tmp_path and staging.name.startswith(".report.staging-")
        (staging / "findings.json").write_text("new", encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == ["findings.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["report"]
    assert out.stat().st_mode & 0o777 == 0o750  # the folder keeps its mode


def test_a_folder_with_other_files_is_never_replaced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "project"
    out.mkdir()
    (out / "main.tf").write_text("keep me", encoding="utf-8")
    with pytest.raises(StagingError, match=r"holds 'main\.tf'"), staged_folder(out, {"findings.json"}):
        pass
    assert main(["demo", "--out", str(out), "--format", "json"]) == 2
    captured = capsys.readouterr()
    assert "holds 'main.tf', which no run of the auditor wrote" in captured.err
    assert "serving" not in captured.out  # refused before the collection starts
    assert (out / "main.tf").read_text(encoding="utf-8") == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["project"]


def test_files_a_previous_manifest_lists_may_be_replaced(tmp_path: Path) -> None:
    out = tmp_path / "report"
    (out / "snapshots").mkdir(parents=True)
    (out / "snapshots" / "today.json").write_text("{}", encoding="utf-8")
    (out / "manifest.json").write_text('{"files": [{"path": "snapshots/today.json"}]}', encoding="utf-8")
    (out / ".report.html.x1y2.tmp").write_text("half", encoding="utf-8")  # left by a killed atomic write
    with staged_folder(out, {"manifest.json", "report.html"}):
        pass
    assert list(out.iterdir()) == []


def test_the_current_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StagingError, match="current folder"), staged_folder(Path(), {"findings.json"}):
        pass


def test_a_signal_in_a_deferred_block_arrives_after_it() -> None:
    reached = []
    with pytest.raises(KeyboardInterrupt), deferred():
        signal.raise_signal(signal.SIGINT)
        reached.append("the rest of the block")
    assert reached == ["the rest of the block"]


def test_an_out_below_a_file_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    assert main(["demo", "--out", str(tmp_path / "file" / "report"), "--format", "json"]) == 2
    captured = capsys.readouterr()
    below = tmp_path / "file" / "report"
    expected = "a path below a file, expected a folder to write the reports into"
    assert captured.err == f"auditor: error: --out {below}: {expected}\n"
    assert "serving" not in captured.out  # refused before the collection starts
    with (
        pytest.raises(StagingError, match="cannot create a folder beside it"),
        staged_folder(tmp_path / "file" / "report", {"findings.json"}),
    ):
        pass


def test_without_an_atomic_exchange_the_previous_folder_is_moved_aside_then_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging_module, "_exchange", lambda first, second: False)  # as on macOS or Windows
    out = tmp_path / "report"
    out.mkdir()
    (out / "findings.json").write_text("old", encoding="utf-8")
    with staged_folder(out, {"findings.json"}) as staging:
        (staging / "findings.json").write_text("new", encoding="utf-8")
    assert (out / "findings.json").read_text(encoding="utf-8") == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["report"]


def test_a_link_to_a_report_folder_stays_a_link_to_the_new_reports(tmp_path: Path) -> None:
    real = tmp_path / "reports-2026"
    real.mkdir()
    (real / "findings.json").write_text("old", encoding="utf-8")
    link = tmp_path / "latest"
    link.symlink_to(real)
    with staged_folder(link, {"findings.json"}) as staging:
        (staging / "findings.json").write_text("new", encoding="utf-8")
    assert link.is_symlink() and (link / "findings.json").read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "reports-2026"]


def test_evaluating_the_inventory_of_the_folder_it_replaces_keeps_that_inventory(
    previous_report: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    shutil.copytree(previous_report, out)
    inventory = (out / "inventory.json").read_bytes()
    assert main(["evaluate", str(out / "inventory.json"), "--out", str(out), "--format", "csv", "--quiet"]) == 1
    names = sorted(p.name for p in out.iterdir())
    # The CSV report writes one companion file per compliance framework beside findings.csv.
    assert [n for n in names if not n.startswith("framework-")] == ["findings.csv", "inventory.json", "manifest.json"]
    assert (out / "inventory.json").read_bytes() == inventory
    assert verify_folder(out).ok


def test_the_installed_entry_point_stops_on_sigterm_during_collection(previous_report: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    shutil.copytree(previous_report, out)
    before = snapshot_of(out)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    with subprocess.Popen(
        [sys.executable, "-m", "auditor", "demo", "--out", str(out)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        # Printed just before the collection starts, which takes far longer than the signal needs to land.
        assert process.stdout.readline().startswith("serving ")
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
    assert process.returncode == EXIT_TERMINATED, stderr
    assert stderr == "auditor: terminated; the report folder is as it was\n"
    assert snapshot_of(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["report"]
