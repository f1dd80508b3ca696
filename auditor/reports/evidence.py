"""Turning evidence, parameters and other free-form values into plain JSON values."""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping
from typing import TypeAlias

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"


def json_value(value: object) -> JsonValue:
    """The value as JSON data: mappings and sequences recursively, anything else as its str()."""
    if isinstance(value, enum.Enum):
        return json_value(value.value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        # NaN and infinities are not JSON; keep them readable instead of emitting invalid JSON.
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, set | frozenset):
        # Sets have no order of their own; sort by their JSON text so output is reproducible.
        items = [json_value(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))
    return str(value)


def json_text(value: object) -> str:
    """The value as compact one-line JSON text, for display next to its key."""
    return json.dumps(json_value(value), ensure_ascii=False, allow_nan=False)


def evidence_lines(evidence: Mapping[str, object]) -> list[str]:
    """Evidence as "key: value" lines; see ``evidence_pairs``."""
    return [f"{key}: {value}" for key, value in evidence_pairs(evidence)]


def evidence_pairs(evidence: Mapping[str, object], path: str = "") -> list[tuple[str, str]]:
    """Evidence as (key, value) pairs: nested mappings become dotted keys, lists of objects numbered ones."""
    pairs: list[tuple[str, str]] = []
    for key, value in evidence.items():
        text = str(key)
        name = path + (text if text.isprintable() else json_text(text))
        if isinstance(value, Mapping) and value:
            pairs.extend(evidence_pairs(value, f"{name}."))
        elif isinstance(value, list | tuple) and value and all(isinstance(item, Mapping) for item in value):
            # A list of objects (policies, rules, assignments) reads as numbered groups of lines.
            for index, item in enumerate(value, start=1):
                members = evidence_pairs(item, f"{name}[{index}].") if isinstance(item, Mapping) else []
                pairs.extend(members or [(f"{name}[{index}]", "{}")])
        else:
            pairs.append((name, evidence_text(value)))
    return pairs


def evidence_text(value: object) -> str:
    """A plain one-line string as it is; anything else, or a string that reads as JSON or spans lines, as JSON."""
    # A string spanning lines could pass for further evidence lines, and one that reads as another JSON
    # value would be ambiguous, so those keep their exact JSON form.
    if isinstance(value, str) and value.isprintable() and not _reads_as_json(value):
        return value
    return json_text(value)


def _reads_as_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
