"""A local HTTPS endpoint that speaks the ARM and Microsoft Graph REST shapes and serves an estate file.

The server (and the TLS stack it needs) is imported on first use of ``Emulator``, ``RecordedRequest``
or ``DEFAULT_TOKEN``, so commands that only read estates or build the command line do not pay for it.
"""

from typing import TYPE_CHECKING, Any

from auditor.emulator.estate import Estate, EstateError, demo_estate_path, load_estate
from auditor.emulator.faults import Fault, FaultError, parse_fault

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    if name in ("Emulator", "RecordedRequest"):
        from auditor.emulator import server  # noqa: PLC0415 - lazily, see the module docstring

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
