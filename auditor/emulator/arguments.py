"""The options of ``auditor emulator`` on the command line, turned into one typed ``EmulatorOptions``."""

from __future__ import annotations

import argparse
from pathlib import Path

from auditor.emulator.resource_graph import DEFAULT_QUOTA, DEFAULT_WINDOW_SECONDS
from auditor.options import EmulatorOptions

# The server's published placeholder token (auditor.emulator.server.DEFAULT_TOKEN), spelt out here so that
# building the command line does not import the server and its TLS stack.
DEFAULT_TOKEN = "emulator-token"  # noqa: S105 - a placeholder only the local endpoint accepts
MAX_PORT = 65535


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's options to a (sub)command parser."""
    parser.add_argument("--estate", required=True, metavar="FILE", help="estate JSON file to serve")
    parser.add_argument(
        "--port", type=_port, default=0, metavar="N", help="port on 127.0.0.1, 1-65535 (default: any free)"
    )
    parser.add_argument("--page-size", type=_positive_int, default=100, metavar="N", help="items per list page")
    parser.add_argument("--token", default=DEFAULT_TOKEN, metavar="T", help="bearer token clients must send")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject a fault, e.g. pattern=/networkSecurityGroups,status=503,times=2,retry_after=1 (repeatable)",
    )
    parser.add_argument(
        "--latency-ms", type=_non_negative_int, default=0, metavar="N", help="delay added to every reply"
    )
    parser.add_argument(
        "--graph-quota",
        type=_positive_int,
        default=DEFAULT_QUOTA,
        metavar="N",
        help=f"Resource Graph queries allowed per {DEFAULT_WINDOW_SECONDS:g}-second window (default {DEFAULT_QUOTA})",
    )


def options_of(args: argparse.Namespace) -> EmulatorOptions:
    """The typed options of parsed ``auditor emulator`` arguments."""
    return EmulatorOptions(
        estate=Path(args.estate),
        port=args.port,
        page_size=args.page_size,
        token=args.token,
        faults=tuple(args.fault),
        latency_ms=args.latency_ms,
        graph_quota=args.graph_quota,
    )


def _port(text: str) -> int:
    value = _whole_number(text)
    if not 0 <= value <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to {MAX_PORT} (0: any free), not {value}")
    return value


def _whole_number(text: str) -> int:
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 9:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text[:20]!r}")
    return int(digits)


def _positive_int(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {value}")
    return value
