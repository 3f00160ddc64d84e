"""Reads for webforms: the form with its workflow's field definitions, the fields it shows, and
the order behind a tracking token. Each public page costs a fixed number of queries: the form
page one (the webform with its organization and workflow; the field definitions come from the
per-process cache orders.workflow_cache, exact for the workflow version just read)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from babel import Locale
from django.utils import translation

from accounts.models import Organization
from orders import workflow_cache
from orders.models import CustomFieldDefinition, Order
from orders.selectors import parse_uuid
from orders.validation import COUNTRY_CODES, option_choices
from webforms.models import SNAKE, STANDARD_FIELDS, FieldMode, Webform

CUSTOM_PREFIX = "customFields."
# Client tokens are `secrets.token_urlsafe` text; anything else cannot match (and a NUL byte
# would make PostgreSQL refuse the query).
TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]+")


def _with_definitions(qs):
    # The workflow row carries the version that webform_fields() reads the definitions for.
    return qs.select_related("organization", "workflow")


def _only_row(qs):
    """The row of a query on a unique key, or None (no ORDER BY: there is one row at most)."""
    return next(iter(qs.order_by()[:1]), None)


def webform_by_slug(slug: str) -> Webform | None:
    """The webform behind a public address, active or not (the view decides), with its fields."""
    return _only_row(_with_definitions(Webform.objects.filter(slug=slug)))


# What the form page (and its 410 answer) reads of the webform, its organization and workflow.
# The page loads only these columns; reading any other one on the page costs one more query,
# which the query count in webforms/tests/test_public_form.py catches.
PAGE_FIELDS = (
    "id",
    "slug",
    "title",
    "intro",
    "standard_fields",
    "default_country_code",
    "custom_fields_shown",
    "custom_fields_required",
    "multiline_fields",
    "allow_photo",
    "active",
    "organization__id",
    "organization__name",
    "workflow__id",
    "workflow__version",
)


def webform_for_page(slug: str) -> Webform | None:
    """`webform_by_slug` for showing the form (GET): only PAGE_FIELDS are loaded. Submissions use
    `webform_by_slug`, whose rows the order services read in full."""
    return _only_row(_with_definitions(Webform.objects.filter(slug=slug)).only(*PAGE_FIELDS))


def webform_get(organization: Organization, webform_id: Any) -> Webform | None:
    """One of the organization's webforms; another organization's is simply absent (404)."""
    pk = parse_uuid(webform_id)
    if pk is None:
        return None
    return _only_row(_with_definitions(Webform.objects.for_organization(organization).filter(pk=pk)))


@dataclass(frozen=True)
class FieldSpec:
    """One field a webform shows. `key` is the wire name (custom fields: `customFields.<customId>`,
    the key their errors carry); `name` is the HTML input name."""

    key: str
    name: str
    label: str
    type: str
    required: bool
    options: tuple[tuple[str, str], ...] = ()  # (value, label) pairs
    help_text: str = ""
    multiline: bool = False
    autocomplete: str = ""
    definition: CustomFieldDefinition | None = None

    @property
    def custom_id(self) -> str | None:
        return self.definition.custom_id if self.definition is not None else None


def _definitions(webform: Webform) -> tuple[CustomFieldDefinition, ...]:
    """The workflow's definitions by position, then customId, for the version of the workflow row
    loaded with the webform (a query only the first time this process sees that version). The
    rows are shared between requests: read-only."""
    return workflow_cache.field_definitions(webform.workflow)


def webform_fields(webform: Webform) -> list[FieldSpec]:
    """The fields the form shows, in order: standard fields, then the workflow's custom fields."""
    specs: list[FieldSpec] = []
    for key, spec in STANDARD_FIELDS.items():
        mode = webform.standard_mode(key)
        if mode == FieldMode.HIDDEN:
            continue
        specs.append(
            FieldSpec(
                key=key,
                name=SNAKE[key],
                label=spec["label"],
                type=spec["type"],
                required=mode == FieldMode.REQUIRED,
                options=country_choices(translation.get_language()) if spec["type"] == "country" else (),
                autocomplete=spec.get("autocomplete", ""),
            )
        )
    shown = webform.custom_fields_shown
    required = set(webform.custom_fields_required or [])
    multiline = set(webform.multiline_fields or [])
    for definition in _definitions(webform):
        if shown is not None and definition.custom_id not in shown:
            continue
        specs.append(
            FieldSpec(
                key=CUSTOM_PREFIX + definition.custom_id,
                name="cf_" + definition.custom_id,
                label=definition.label,
                type=definition.type,
                required=definition.required or definition.custom_id in required,
                options=tuple(option_choices(definition)),
                help_text=definition.help_text,
                multiline=definition.custom_id in multiline,
                definition=definition,
            )
        )
    return specs


# Norwegian sorts Æ, Ø, Å after Z; other letters sort by their base letter (Å-land under A in English).
_NB_LAST = str.maketrans({"æ": "{", "ø": "|", "å": "}"})


def _name_key(name: str, language: str) -> str:
    text = name.casefold()
    if language == "nb":
        text = text.translate(_NB_LAST)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


@lru_cache(maxsize=8)
def country_choices(language: str | None) -> tuple[tuple[str, str], ...]:
    """Every country code the order rules accept, named in the page's language (CLDR names from
    Babel; English for a language Babel does not know), sorted as that language sorts."""
    code_language = (language or "en").split("-")[0].lower()
    try:
        locale = Locale.parse(code_language)
    except (ValueError, LookupError):
        code_language, locale = "en", Locale.parse("en")
    names = [(code, locale.territories.get(code) or code) for code in COUNTRY_CODES]
    return tuple(sorted(names, key=lambda item: _name_key(item[1], code_language)))


# --------------------------------------------------------------------------------------------
# The tracking page
# --------------------------------------------------------------------------------------------


def order_for_tracking(token: str) -> Order | None:
    """The order behind a client token, with what the tracking page shows, in one query."""
    if not token or len(token) > 64 or not TOKEN_CHARS.fullmatch(token):
        return None
    return Order.objects.select_related("organization", "installer", "booking").filter(client_token=token).first()
