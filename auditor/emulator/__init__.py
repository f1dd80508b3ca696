"""A local HTTPS endpoint that speaks the ARM and Microsoft Graph REST shapes and serves an estate file."""

from auditor.emulator.estate import Estate, EstateError, demo_estate_path, load_estate
from auditor.emulator.faults import Fault, FaultError, parse_fault
from auditor.emulator.server import Emulator, RecordedRequest

__all__ = [
    "Emulator",
    "Estate",
    "EstateError",
    "Fault",
    "FaultError",
    "RecordedRequest",
    "demo_estate_path",
    "load_estate",
    "parse_fault",
]
