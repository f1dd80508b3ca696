"""Terminal output: collection progress, the closing summary, plain output off a terminal, --quiet."""

from __future__ import annotations

import io
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import main
from auditor.collect.scan import ProgressEvent, collect_inventory
from auditor.drift import Changes
from auditor.emulator import Emulator, Estate
from auditor.inventory import Collection
from auditor.model import Finding, Severity, Status
from auditor.results import ControlSummary, ScanMetadata, ScanResult
from auditor.terminal import (
    ASCII_SYMBOLS,
    CLEAR_LINE,
    CollectionProgress,
    collection_progress,
    printable,
    service_of,
    summary_lines,
)
from tests import estates as e
from tests.harness import AUDITED_REQUESTS, core_steps, serve

NSG = "Microsoft.Network/networkSecurityGroups"
VMS = "Microsoft.Compute/virtualMachines"
HOSTILE = "nsg\x1b[31m\r\x07\u202eevil"


class FakeTerminal(io.StringIO):
    """A text stream that says it is a terminal."""

    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def plan(*subscriptions: str, **expected: int) -> ProgressEvent:
    """A plan event; keyword names are APIs with '__' for '/' and '_' for '.'."""
    apis = {name.replace("__", "/").replace("_", "."): count for name, count in expected.items()}
    return ProgressEvent("plan", subscriptions=subscriptions, expected=apis)


def two_subscription_estate() -> dict[str, Any]:
    """An NSG and a vault in each of two subscriptions."""
    return e.estate(e.nsg("nsg-a"), e.vault("kv-a"), e.nsg("nsg-b", sub=e.SUB2), subs=(e.SUB, e.SUB2))


# --- sanitising -------------------------------------------------------------------------------------


def test_printable_replaces_control_and_bidi_characters() -> None:
    assert printable(HOSTILE) == "nsg?[31m??<U+202E>evil"
    assert printable("nic-ü-名前 ok") == "nic-ü-名前 ok"


def test_service_names_are_short() -> None:
    assert service_of(NSG) == "network"
    assert service_of("Microsoft.KeyVault/vaults/keys") == "keyvault"
    assert service_of("graph:/identity/conditionalAccess/policies") == "graph"


# --- the progress line ------------------------------------------------------------------------------


def test_progress_counts_subscriptions_and_marks_services() -> None:
    stream, clock = FakeTerminal(), Clock()
    progress = CollectionProgress(stream, width=200, clock=clock)
    progress(plan("s1", "s2", Microsoft_Network__networkSecurityGroups=2, Microsoft_Compute__virtualMachines=2))
    assert progress.line() == "[0/2 subscriptions] 0/4 network … compute …"
    progress(ProgressEvent("listing", NSG, "s1"))
    progress(ProgressEvent("listing", NSG, "s2"))
    progress(ProgressEvent("listing", VMS, "s1", ok=False))
    progress(ProgressEvent("subscription", subscription_id="s1"))
    assert progress.line() == "[1/2 subscriptions] 3/4 network ✓ compute ✗"
    # Drawn once for the plan and not again until the interval passes.
    assert stream.getvalue().count(CLEAR_LINE) == 1
    clock.now = 1.0
    progress(ProgressEvent("listing", VMS, "s2"))
    assert stream.getvalue().endswith(CLEAR_LINE + "[1/2 subscriptions] 4/4 network ✓ compute ✗")
    progress.close()
    assert stream.getvalue().endswith(CLEAR_LINE)


def test_a_narrow_terminal_folds_finished_services_then_cuts() -> None:
    stream = FakeTerminal()
    progress = CollectionProgress(stream, width=44)
    progress(plan("s1", Microsoft_Network__a=1, Microsoft_Compute__b=1, Microsoft_Sql__c=1, Microsoft_Web__d=1))
    for api in ("Microsoft.Network/a", "Microsoft.Compute/b"):
        progress(ProgressEvent("listing", api, "s1"))
    assert progress.line(43) == "[0/1 subscriptions] 2/4 2 ✓ sql … web …"
    progress.width = 20
    progress.drawn_at = None
    progress(ProgressEvent("listing", "Microsoft.Sql/c", "s1"))
    last = stream.getvalue().rsplit(CLEAR_LINE, 1)[-1]
    assert len(last) == 19 and last.endswith("…")


def test_progress_draws_ascii_on_a_terminal_that_cannot_show_unicode() -> None:
    stream = FakeTerminal()
    stream.encoding = "ascii"
    progress = CollectionProgress(stream, width=200)
    progress(plan("s1", Microsoft_Network__a=1))
    progress.drawn_at = None
    progress(ProgressEvent("listing", "Microsoft.Network/a", "s1"))
    assert progress.symbols == ASCII_SYMBOLS
    assert stream.getvalue().encode("ascii").endswith(b"[0/1 subscriptions] 1/1 network ok")


def test_progress_only_on_a_terminal_and_never_when_quiet() -> None:
    stream = FakeTerminal()
    with collection_progress(stream, quiet=False, terminal=False) as progress:
        assert progress is None
    with collection_progress(stream, quiet=True, terminal=True) as progress:
        assert progress is None
    with collection_progress(io.StringIO(), quiet=False) as progress:
        assert progress is None  # a StringIO is not a terminal
    with collection_progress(stream, quiet=False) as progress:
        assert isinstance(progress, CollectionProgress)
        progress(plan("s1", Microsoft_Network__a=1))
    assert stream.getvalue().endswith(CLEAR_LINE)


def test_progress_events_from_many_threads_all_count() -> None:
    progress = CollectionProgress(io.StringIO(), width=200, interval=0.0)
    progress(plan(*(f"s{i}" for i in range(8)), Microsoft_Network__a=8 * 200))

    def send(sub: str) -> None:
        for _ in range(200):
            progress(ProgressEvent("listing", "Microsoft.Network/a", sub))

    threads = [threading.Thread(target=send, args=(f"s{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert progress.line().startswith("[0/8 subscriptions] 1600/1600 network ✓")


# --- events from a real collection ------------------------------------------------------------------


def test_collection_reports_every_listing_and_phase_step() -> None:
    events: list[ProgressEvent] = []
    lock = threading.Lock()

    def record(event: ProgressEvent) -> None:
        with lock:
            events.append(event)

    with serve(two_subscription_estate()) as (_, session):
        collect_inventory(session, steps=core_steps(), progress=record)
    assert events[0].kind == "plan"
    assert set(events[0].subscriptions) == {e.SUB, e.SUB2}
    arrived = Counter(event.api for event in events if event.kind in ("listing", "phase"))
    assert arrived == Counter(events[0].expected)
    assert sorted(ev.subscription_id for ev in events if ev.kind == "subscription") == sorted([e.SUB, e.SUB2])
    assert all(ev.ok for ev in events)


def test_a_failed_listing_is_reported_as_not_ok() -> None:
    from auditor.emulator import Fault  # noqa: PLC0415

    fault = Fault(pattern=f"/subscriptions/{e.SUB2}/providers/Microsoft.KeyVault/vaults", status=403)
    events: list[ProgressEvent] = []
    with serve(two_subscription_estate(), faults=(fault,)) as (_, session):
        collect_inventory(session, steps=core_steps(), progress=events.append)
    failed = [(ev.api, ev.subscription_id) for ev in events if not ev.ok]
    assert failed == [("Microsoft.KeyVault/vaults", e.SUB2)]


class InProcessPool(ThreadPoolExecutor):
    """Stands in for the process pool: the same share-out of subscriptions without spawning interpreters."""

    def __init__(self, max_workers: int, mp_context: object, initializer: object = None) -> None:
        # The workers' initializer (ignore SIGINT) is for processes; threads cannot change signal handling.
        super().__init__(max_workers=max_workers)


def test_worker_processes_report_each_subscription(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("auditor.collect.scan.ProcessPoolExecutor", InProcessPool)
    events: list[ProgressEvent] = []
    with serve(two_subscription_estate()) as (_, session):
        collect_inventory(session, max_workers=2, processes=2, progress=events.append)
    assert events[0].kind == "plan" and len(events[0].subscriptions) == 2
    assert sorted(ev.subscription_id for ev in events if ev.kind == "subscription") == sorted([e.SUB, e.SUB2])
    # The tenant-wide steps run in this process: their listings, and their per-parent phases (group members).
    arrived = Counter(ev.api for ev in events if ev.kind in ("listing", "phase"))
    assert arrived == Counter(events[0].expected)


# --- the summary ------------------------------------------------------------------------------------


def result_with() -> ScanResult:
    """A result with a failing and a passing control, a failed listing, and hostile resource names."""
    metadata = ScanMetadata("0.1.0", "t0", "t1", "test", (e.SUB,), "baseline.toml", "0" * 64, "baseline")
    controls = tuple(
        ControlSummary(cid, "title", "network", Severity.HIGH, "automated", "q", "d", status, {})
        for cid, status in (("NET-01", Status.FAIL), ("KV-01", Status.PASS))
    )
    findings = (
        Finding("NET-01", "c", "t", Status.FAIL, Severity.HIGH, f"/x/{HOSTILE}", NSG, e.SUB, "open"),
        Finding("KV-01", "c", "t", Status.PASS, Severity.HIGH, "/x/kv", "vault", e.SUB, "fine"),
    )
    failed = Collection(VMS, e.SUB, f"/subscriptions/{e.SUB}", ok=False, status_code=403)
    return ScanResult(metadata, controls, findings, (failed,))


def test_summary_is_plain_without_colour() -> None:
    changes = Changes(f"old/{HOSTILE}.json", "t0", (), (), (), 2)
    lines = summary_lines(
        result_with(),
        [Path(f"out/{HOSTILE}.html")],
        gate=("fail or error at or above high", 1),
        changes=changes,
    )
    text = "\n".join(lines)
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text
    assert lines[0].split() == ["status", "controls", "findings"]
    assert lines[1].split() == ["pass", "1", "1"]
    assert lines[2].split() == ["fail", "1", "1"]
    assert lines[8].split() == ["total", "2", "2"]
    assert "1 listing(s) could not be collected; their controls report error" in lines
    assert "gated: 1 finding(s) fail or error at or above high" in lines
    assert (
        "since the scan of old/nsg?[31m??<U+202E>evil.json (finished t0): 0 new, 0 resolved, 0 changed, "
        "2 unchanged" in lines
    )
    assert lines[-1] == "wrote out/nsg?[31m??<U+202E>evil.html"


def test_summary_colours_statuses_on_a_terminal() -> None:
    lines = summary_lines(result_with(), [], color=True)
    assert lines[2].startswith("\x1b[31mfail") and lines[2].endswith("\x1b[0m")
    assert "\x1b" not in lines[5]  # attested: nothing to colour


# --- the command line, on and off a terminal --------------------------------------------------------


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The two-subscription estate on a local endpoint, with the scan's token in the environment."""
    with Emulator(Estate.from_dict(two_subscription_estate(), source="terminal")) as running:
        monkeypatch.setenv("AUDITOR_BEARER_TOKEN", running.token)
        yield running
        AUDITED_REQUESTS.extend(running.requests)


def scan_args(endpoint: Emulator, out: Path) -> list[str]:
    """A scan of the endpoint into out."""
    return [
        "scan",
        "--all-subscriptions",
        "--arm-endpoint",
        endpoint.url,
        "--ca-bundle",
        str(endpoint.ca_file),
        "--out",
        str(out),
        "--format",
        "json",
        "--fail-on",
        "critical",
    ]


def test_off_a_terminal_the_output_is_plain(
    endpoint: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(scan_args(endpoint, tmp_path))
    captured = capsys.readouterr()
    for stream in (captured.out, captured.err):
        assert "\x1b" not in stream and "\r" not in stream
    assert "subscriptions]" not in captured.err
    assert f"wrote {tmp_path / 'findings.json'}" in captured.out


def test_on_a_terminal_progress_is_drawn_on_stderr_and_erased(
    endpoint: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TERM", raising=False)
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stderr", terminal)
    main(scan_args(endpoint, tmp_path))
    drawn = terminal.getvalue()
    assert drawn.startswith(CLEAR_LINE + "[0/2 subscriptions] 0/")
    assert drawn.endswith(CLEAR_LINE)
    assert "\x1b" not in capsys.readouterr().out  # stdout is not the terminal here


def test_quiet_prints_nothing_and_keeps_the_exit_status(
    endpoint: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stderr", terminal)
    args = scan_args(endpoint, tmp_path)
    args[args.index("critical")] = "info"
    assert main([*args, "--quiet"]) == 1
    assert capsys.readouterr().out == ""
    assert terminal.getvalue() == ""
    assert (tmp_path / "findings.json").is_file()
