"""Reading values out of checkov's resource configurations, and telling literals from unresolved expressions.

Terraform configurations come from checkov's HCL and plan parsers, which wrap every attribute value in a
list (``{"name": ["web"]}``) and give blocks as lists of such dicts; ARM and Bicep configurations are the
template's own JSON with parameters and variables that have defaults already substituted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# A Terraform value checkov could not render: an interpolation or a reference to a variable, local,
# module output, data source or another resource's computed attribute.
_TERRAFORM_EXPRESSION = re.compile(r"\$\{|^(var|local|module|data|each|count)\.|^azurerm_\w+\.\w+", re.IGNORECASE)


class UndecidableError(Exception):
    """A value the verdict depends on is not known from the code (an unresolved expression, say)."""


def is_terraform_expression(value: object) -> bool:
    """True for a Terraform expression left unrendered."""
    return isinstance(value, str) and bool(_TERRAFORM_EXPRESSION.search(value.strip()))


def is_arm_expression(value: object) -> bool:
    """True for an ARM template expression (``[parameters('x')]``); ``[[`` escapes a literal bracket."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    return text.startswith("[") and text.endswith("]") and not text.startswith("[[")


def tf_value(conf: Mapping[str, Any], key: str) -> Any:
    """The attribute's value with checkov's list wrapping removed; None when absent or empty."""
    value = conf.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    if value == "":
        # Plan JSON gives unset optional strings as "".
        return None
    return value


def tf_literal(conf: Mapping[str, Any], key: str, what: str) -> Any:
    """The attribute's value; UndecidableError when it is an unrendered expression."""
    value = tf_value(conf, key)
    if is_terraform_expression(value):
        raise UndecidableError(f"{what} {key} is the expression {value!r}, unresolved in the code")
    return value


def tf_strings(conf: Mapping[str, Any], key: str, what: str) -> tuple[str, ...]:
    """A string or list-of-strings attribute as a tuple; UndecidableError when any item is an expression."""
    value = tf_value(conf, key)
    items = value if isinstance(value, list) else [] if value is None else [value]
    texts = tuple(str(item) for item in items if item not in (None, ""))
    for text in texts:
        if is_terraform_expression(text):
            raise UndecidableError(f"{what} {key} holds the expression {text!r}, unresolved in the code")
    return texts


def tf_blocks(conf: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """The nested blocks named ``key`` (plan JSON may wrap them in one more list)."""
    value = conf.get(key) or []
    found: list[Mapping[str, Any]] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, list):
            found.extend(block for block in item if isinstance(block, dict))
        elif isinstance(item, dict):
            found.append(item)
    return found


def tf_int(conf: Mapping[str, Any], key: str, what: str) -> int | None:
    """An integer attribute; UndecidableError when it is an expression or not a number."""
    value = tf_literal(conf, key, what)
    if value is None:
        return None
    if isinstance(value, bool):
        raise UndecidableError(f"{what} {key} is {value!r}, not a number")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UndecidableError(f"{what} {key} is {value!r}, not a number") from None


def tf_bool(conf: Mapping[str, Any], key: str, what: str, default: bool | None) -> bool | None:
    """A boolean attribute (HCL may give it as a string); the default when absent."""
    value = tf_literal(conf, key, what)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise UndecidableError(f"{what} {key} is {value!r}, not true or false")


def arm_get(conf: Mapping[str, Any], path: str) -> Any:
    """The value at a slash-separated path (``properties/encryption/type``); None when any step is missing."""
    value: Any = conf
    for step in path.split("/"):
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value


def arm_literal(conf: Mapping[str, Any], path: str, what: str) -> Any:
    """The value at the path; UndecidableError when it is a template expression left unresolved."""
    value = arm_get(conf, path)
    if is_arm_expression(value):
        raise UndecidableError(f"{what} {path} is the expression {value!r}, resolved only at deployment")
    return value


def arm_strings(conf: Mapping[str, Any], path: str, what: str) -> tuple[str, ...]:
    """A string or string-array property as a tuple; UndecidableError when any item is an expression."""
    value = arm_literal(conf, path, what)
    items = value if isinstance(value, list) else [] if value is None else [value]
    texts = tuple(str(item) for item in items if item not in (None, ""))
    for text in texts:
        if is_arm_expression(text):
            raise UndecidableError(f"{what} {path} holds the expression {text!r}, resolved only at deployment")
    return texts


def arm_bool(conf: Mapping[str, Any], path: str, what: str) -> bool | None:
    """A boolean property (templates may give it as a string); None when absent."""
    value = arm_literal(conf, path, what)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise UndecidableError(f"{what} {path} is {value!r}, not true or false")


def arm_int(conf: Mapping[str, Any], path: str, what: str) -> int | None:
    """An integer property; None when absent, UndecidableError when not a number."""
    value = arm_literal(conf, path, what)
    if value is None:
        return None
    if isinstance(value, bool):
        raise UndecidableError(f"{what} {path} is {value!r}, not a number")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UndecidableError(f"{what} {path} is {value!r}, not a number") from None
