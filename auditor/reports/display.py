"""Neutralising text for human-facing formats: visible bidi controls, bounded lengths, inert spreadsheet cells.

Every reporter that people read (HTML, CSV, JUnit, SARIF messages, Markdown, the terminal) passes
Azure-supplied text through this module; findings.json keeps the exact values.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePath, PurePosixPath, PureWindowsPath

# Characters that reorder the text around them, so that a name can display as another name
# (Unicode TR #9; "Trojan Source", CVE-2021-42574): embeddings and overrides, isolates, marks.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
    "\u200e\u200f"  # LRM, RLM
    "\u061c"  # ARABIC LETTER MARK
)
_BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

# A spreadsheet reads a cell as a formula when its first non-blank character is one of these
# (OWASP, "CSV Injection"); the full-width forms are folded to them by some spreadsheet imports.
FORMULA_TRIGGERS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
# Removed from a cell altogether: control characters other than tab, newline and carriage return.
_UNPRINTABLE_CELL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

TRUNCATION_MARKER = "\u2026 [{count:,} more characters]"


def visible_bidi(text: str) -> str:
    """The text with each bidi control shown as ``<U+XXXX>`` and each lone surrogate as U+FFFD."""
    text = _LONE_SURROGATE.sub("\ufffd", text)
    return _BIDI.sub(lambda match: f"<U+{ord(match.group()):04X}>", text)


def truncated(text: str, limit: int, total: int | None = None) -> str:
    """The text cut to at most ``limit`` characters, ending with a marker saying how much was cut.

    ``total`` is the length of the original when ``text`` is already a cleaned head of it.
    """
    length = max(len(text), total or 0)
    if length <= limit:
        return text
    # The marker's own length depends on the count it shows, so size it for the worst case first.
    room = max(0, limit - len(TRUNCATION_MARKER.format(count=length)))
    return text[:room] + TRUNCATION_MARKER.format(count=length - room)


def human_text(value: object, limit: int | None = None) -> str:
    """Any value as text for people: bidi controls visible, then bounded to ``limit`` characters if given."""
    raw = str(value)
    if limit is None:
        return visible_bidi(raw)
    # Only the head that can be shown is cleaned, so a megabyte-long name costs no more than a short one.
    return truncated(visible_bidi(raw[: limit + 1]), limit, total=len(raw))


def spreadsheet_cell(value: object, limit: int | None = None) -> str:
    """A value as a CSV cell no spreadsheet runs: cleaned, bidi visible, an apostrophe before a formula."""
    text = human_text(_UNPRINTABLE_CELL.sub("", str(value)), limit)
    if starts_formula(text):
        return "'" + text
    return text


def starts_formula(text: str) -> bool:
    """True when a spreadsheet could read the cell as a formula: a trigger after any leading blanks."""
    if text.startswith(("\t", "\r")):
        # OWASP lists a leading tab or carriage return as triggers of their own.
        return True
    first = text.lstrip(" \t\r\n\u00a0\u3000")[:1]
    if not first:
        return False
    # NFKC folds further compatibility forms (e.g. small form variants) to the ASCII triggers.
    return first in FORMULA_TRIGGERS or unicodedata.normalize("NFKC", first)[:1] in FORMULA_TRIGGERS


def report_file(path: str) -> str:
    """A file as a report may name it: a relative path as given; an absolute one by its folder and file name.

    Reports travel (CI artefacts, e-mail, auditors' archives) and must not disclose the machine's layout.
    """
    for flavour in (PurePosixPath, PureWindowsPath):
        parsed: PurePath = flavour(path)
        if parsed.is_absolute() or parsed.anchor:
            return "/".join(parsed.parts[-2:]) if len(parsed.parts) > 2 else parsed.name
    return path
