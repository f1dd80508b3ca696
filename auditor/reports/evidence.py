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
