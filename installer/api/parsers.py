"""JSON parsing that refuses, before any view runs, what the database cannot store or the server
cannot walk. Each is a 400 in the error shape whose `details` names the wire path at fault:

- a NUL character (U+0000) in any string or key: PostgreSQL text and jsonb reject it;
- a lone surrogate (U+D800 to U+DFFF, sent as an escape such as "\\ud800"): it is no UTF-8
  character, so PostgreSQL rejects it and no JSON encoder writes it back;
- a number too large for a double (`1e400`, which the decoder reads as infinity): JSON has no
  infinity, so neither the database nor a client could read it back;
- arrays and objects nested deeper than MAX_JSON_DEPTH levels (a body nested a few hundred
  levels deep would exhaust the interpreter's recursion limit in whatever walks it next).

`json_problem` is the same check for JSON that arrives another way (the admin's JSON fields).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

logger = logging.getLogger("installer.api")

MAX_JSON_DEPTH = 64
NUL_MESSAGE = "NUL characters (\\u0000) are not allowed in text."
INFINITE_MESSAGE = "Numbers must be finite: this one is too large."
DEPTH_MESSAGE = f"Arrays and objects may be nested at most {MAX_JSON_DEPTH} levels deep."
_MAX_PATH = 200


def text_problem(text: str) -> str | None:
    """Why the database cannot store `text` (a NUL, a lone surrogate), or None."""
    if "\x00" in text:
        return NUL_MESSAGE
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"Surrogate characters are not allowed: U+{ord(text[exc.start]):X}."
    return None


def _path(node: tuple | None) -> str:
    """The wire path (`metadata.a`, `customFields[0].value`) of a node (key, parent)."""
    parts: list[Any] = []
    while node is not None:
        parts.append(node[0])
        node = node[1]
    path = ""
    for part in reversed(parts):
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path[:_MAX_PATH] or "nonFieldErrors"


def json_problem(data: Any) -> tuple[str, str] | None:
    """The first (wire path, message) in a parsed JSON value that the database cannot store or
    that is nested deeper than MAX_JSON_DEPTH, or None. Walks without recursion, so any depth
    is safe to check. A key at fault is reported at the path of its object."""
    stack: list[tuple[Any, tuple | None, int]] = [(data, None, 0)]
    while stack:
        value, node, depth = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                return _path(node), problem
        elif isinstance(value, float):
            if not math.isfinite(value):
                return _path(node), INFINITE_MESSAGE
        elif isinstance(value, dict):
            if depth >= MAX_JSON_DEPTH:
                return _path(node), DEPTH_MESSAGE
            for key, sub in reversed(value.items()):
                problem = text_problem(key) if isinstance(key, str) else None
                if problem:
                    return _path(node), f"A key: {problem}"
                stack.append((sub, (key, node), depth + 1))
        elif isinstance(value, list):
            if depth >= MAX_JSON_DEPTH:
                return _path(node), DEPTH_MESSAGE
            stack.extend((sub, (index, node), depth + 1) for index, sub in reversed(list(enumerate(value))))
    return None


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            # The decoder gave up before MAX_JSON_DEPTH could be checked: one line, no traceback.
            logger.warning("JSON body refused: nested too deeply to parse")
            raise ParseError(DEPTH_MESSAGE) from None
        problem = json_problem(data)
        if problem:
            path, message = problem
            raise ValidationError({path: [message]})
        return data
