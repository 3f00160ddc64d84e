"""Handlebars templates (pybars3) rendered in a sandbox over a documented context.

The sandbox has three walls:
1. `check` reads every `{{...}}` tag before a template is saved: only `{{path}}` of a known
   leaf, `{{#if path}}` / `{{#unless path}}` of a known path, `{{else}}`, closing tags and
   comments pass. No other helper, partial, `this`, `../` or `@root`. A template that fails is
   a 400 on save.
2. The context is plain data: dicts (`Context`, whose missing keys are None, so pybars never
   falls back to attribute access) of strings, numbers, booleans and None.
3. Rendering passes replacements for pybars' other built-in helpers that refuse to run.
A template that fails anyway at send time fails its message (`TemplateProblem`), never the worker.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from pybars import Compiler, PybarsError, strlist

# The documented context (docs/notifications.md): every path a template may name. Leaves are
# text; the groups (order, customer, booking, installer, step, offer, organization) may be
# tested with {{#if}} and are empty (false) when the order has none.
SCHEMA: dict[str, tuple[str, ...]] = {
    "order": ("displayId", "name", "address", "city", "postalCode", "status"),
    "customer": ("name", "email", "phone"),
    "booking": ("start", "end", "date", "time", "endTime", "zone", "allDay"),
    "installer": ("name", "phone", "email"),
    "step": ("key", "title"),
    "offer": ("expiresAt",),
    "organization": ("name",),
}
TOP_LEAVES = ("trackingUrl", "optOutUrl", "language")
GROUPS = frozenset(SCHEMA)
LEAVES = frozenset({f"{group}.{leaf}" for group, leaves in SCHEMA.items() for leaf in leaves} | set(TOP_LEAVES))

_COMMENT = re.compile(r"\{\{!--.*?--\}\}|\{\{![^}]*\}\}", re.DOTALL)
_TAG = re.compile(r"\{\{(\{?)(.*?)\}?\}\}", re.DOTALL)
_BLOCK = re.compile(r"^([#/])\s*(if|unless)\b\s*(.*)$", re.DOTALL)
MAX_LENGTH = 20_000


class TemplateProblem(ValueError):
    """A template that does not compile, names something outside the context or fails to render."""


def check(text: str) -> None:
    """Raises TemplateProblem naming the first tag outside the sandbox, or the syntax error."""
    if len(text) > MAX_LENGTH:
        raise TemplateProblem(f"A template is at most {MAX_LENGTH} characters.")
    open_blocks: list[str] = []
    for match in _TAG.finditer(_COMMENT.sub("", text)):
        inner = match.group(2).strip().strip("~").strip()
        if inner in ("else", "^"):
            continue
        block = _BLOCK.match(inner)
        if block:
            sign, name, path = block.groups()
            path = path.strip()
            if sign == "/":
                if path or not open_blocks or open_blocks.pop() != name:
                    raise TemplateProblem(f"'{{{{{inner}}}}}' closes no open block.")
                continue
            open_blocks.append(name)
            if path not in GROUPS and path not in LEAVES:
                raise TemplateProblem(f"'{{{{{inner}}}}}': '{path}' is not in the template context.")
            continue
        if inner not in LEAVES:
            if inner in GROUPS:
                raise TemplateProblem(
                    f"'{{{{{inner}}}}}' is a group: name one of its fields, e.g. {inner}.{SCHEMA[inner][0]}."
                )
            raise TemplateProblem(
                f"'{{{{{inner}}}}}' is not in the template context. Use {{{{path}}}} of a documented field, "
                "{{#if path}}...{{else}}...{{/if}} or {{#unless path}}...{{/unless}}."
            )
    if open_blocks:
        raise TemplateProblem(f"'{{{{#{open_blocks[-1]}}}}}' is not closed with '{{{{/{open_blocks[-1]}}}}}'.")
    _compiled(text)


@lru_cache(maxsize=512)
def _compiled(text: str):
    try:
        return Compiler().compile(text)
    except PybarsError as exc:
        raise TemplateProblem(f"The template does not compile: {exc}") from None
    except Exception as exc:  # PyMeta's parse errors are not PybarsError
        raise TemplateProblem(
            f"The template does not compile: {str(exc).splitlines()[0] if str(exc) else exc!r}"
        ) from None


class Context(dict):
    """A dict whose missing keys read as None: pybars then never looks for an attribute."""

    def __missing__(self, key: Any) -> None:
        return None


def _refuse(*args: Any, **kwargs: Any) -> None:
    raise TemplateProblem("Only {{#if}} and {{#unless}} blocks are allowed in templates.")


_HELPERS = dict.fromkeys(("each", "with", "lookup", "log", "helperMissing", "blockHelperMissing"), _refuse)


def _plain(value: Any, mode: str) -> Any:
    """The context as pybars sees it: Context dicts; non-empty text wrapped so that pybars adds
    it as it is (text mode) or JSON-escaped (json mode) instead of HTML-escaping it."""
    if isinstance(value, dict):
        return Context({str(k): _plain(v, mode) for k, v in value.items()})
    if value is None or isinstance(value, bool):
        return value
    if not isinstance(value, str | int | float):
        raise TypeError(f"A template context holds plain values only, not {type(value).__name__}.")
    text = str(value)
    if not text:
        return ""
    if mode == "json":
        text = json.dumps(text)[1:-1]
    return strlist([text])


def render(text: str, context: dict[str, Any], *, mode: str = "text") -> str:
    """Renders `text` over `context`. mode: "text" (values as they are: subjects, SMS, the
    plain email body, which is HTML-escaped as a whole for the HTML part) or "json" (values
    escaped for a JSON string: webhook payloads). Raises TemplateProblem."""
    check(text)
    template = _compiled(text)
    try:
        return str(template(_plain(context, mode), helpers=_HELPERS))
    except TemplateProblem:
        raise
    except Exception as exc:
        raise TemplateProblem(f"The template failed to render: {type(exc).__name__}: {exc}") from None
