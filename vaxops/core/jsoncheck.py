"""What no value in an API request may carry, whatever the field (pure: no Django import).

The request guard parses every JSON body once and walks it with :func:`check_json`; query
parameters and path segments go through :func:`check_text` and :func:`check_integer_text`.
The rules are the limits of what the databases and Python can hold, not business rules:

- nesting deeper than ``MAX_DEPTH`` (the bodies of this API are two levels deep; a deep body
  only costs memory and recursion);
- a NUL byte (PostgreSQL text cannot hold one) or a lone UTF-16 surrogate (no encoding can);
- an integer outside the signed 64-bit range (every id and counter column is a bigint);
- ``NaN`` and ``Infinity``, which are not JSON (RFC 8259) though Python's parser accepts them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
_INTEGER = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: an error code (see ``core.errors``) and its detail."""

    code: str
    detail: dict[str, Any] = field(default_factory=dict)


class NotJson(ValueError):
    """The body is not JSON (includes ``NaN``/``Infinity`` and overly deep nesting)."""

    def __init__(self, message: str, *, too_deep: bool = False):
        super().__init__(message)
        self.too_deep = too_deep


def _refuse_constant(name: str) -> Any:
    raise NotJson(f"{name} is not a JSON value")


def parse_json(body: bytes) -> Any:
    """``json.loads`` that refuses non-JSON constants and turns runaway nesting into ``NotJson``."""
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:
        raise NotJson("nested too deeply", too_deep=True) from None
    except UnicodeDecodeError as exc:
        raise NotJson(str(exc)) from None
    except ValueError as exc:
        if isinstance(exc, NotJson):
            raise
        raise NotJson(str(exc)) from None


def printable(text: str, limit: int = 100) -> str:
    """``text`` safe to echo in an error: the characters refused here replaced, and shortened."""
    return _BAD_TEXT.sub("\ufffd", text[:limit])


def check_text(value: str, name: str) -> Refusal | None:
    """A NUL byte or a lone surrogate in ``value`` (named ``name`` in the refusal)."""
    if _BAD_TEXT.search(value):
        return Refusal("invalid_characters", {"field": printable(name)})
    return None


def check_integer_text(value: str, name: str) -> Refusal | None:
    """A decimal integer written as text (a query parameter) that no bigint column can hold."""
    if len(value) <= 18 or not _INTEGER.fullmatch(value.strip()):
        return None
    if INT64_MIN <= int(value) <= INT64_MAX:
        return None
    return Refusal("number_out_of_range", {"field": name})


def _location(path: tuple[Any, ...]) -> str:
    return printable(".".join(str(p) for p in path) or "body")


def check_json(value: Any, max_depth: int = MAX_DEPTH) -> Refusal | None:
    """The first thing in a parsed JSON value that no field may carry, or ``None``.

    Walks iteratively (a deep value must not exhaust the stack of the checker either).
    """
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if len(path) > max_depth:
            return Refusal("json_too_deep", {"limit": max_depth})
        if isinstance(item, str):
            refusal = check_text(item, _location(path))
            if refusal:
                return refusal
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                return Refusal("number_out_of_range", {"field": _location(path)})
        elif isinstance(item, dict):
            for key, child in item.items():
                refusal = check_text(key, _location((*path, "(key)")))
                if refusal:
                    return refusal
                stack.append((child, (*path, key)))
        elif isinstance(item, list):
            stack.extend((child, (*path, i)) for i, child in enumerate(item))
    return None
