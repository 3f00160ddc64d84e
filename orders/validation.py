"""Field rules shared by the API, the webforms and the admin: one place says what a valid
country, phone number and custom field value is. Messages are translated into the active language:
English for the API, the page's language on the public pages."""

from __future__ import annotations

import datetime
import json
import math
import re
from typing import Any

import phonenumbers
from django.utils.translation import gettext as _

from orders.models import CancelReason, CustomFieldDefinition, FieldType

COUNTRY_CODES = frozenset(phonenumbers.SUPPORTED_REGIONS)


def normalize_country(value: Any) -> str:
    """Upper-cases and checks an ISO 3166-1 alpha-2 code; raises ValueError with a sentence."""
    if not isinstance(value, str) or len(value.strip()) != 2:
        raise ValueError(_("Must be an ISO 3166-1 alpha-2 country code, such as NO or DE."))
    code = value.strip().upper()
    if code not in COUNTRY_CODES:
        raise ValueError(_("'%(value)s' is not a known ISO 3166-1 alpha-2 country code.") % {"value": value})
    return code


def normalize_phone(value: Any, country_code: str | None) -> str:
    """Parses a phone number for the country and returns it in E.164; raises ValueError."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(_("Enter a phone number."))
    try:
        parsed = phonenumbers.parse(value, country_code or None)
    except phonenumbers.NumberParseException:
        raise ValueError(_("Enter a valid phone number, for example +47 22 12 34 56.")) from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(_("Enter a valid phone number, for example +47 22 12 34 56."))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def option_values(definition: CustomFieldDefinition) -> list[str]:
    values = []
    for option in definition.options or []:
        if isinstance(option, dict):
            values.append(str(option.get("value", option.get("label", ""))))
        else:
            values.append(str(option))
    return values


def option_choices(definition: CustomFieldDefinition) -> list[tuple[str, str]]:
    choices = []
    for option in definition.options or []:
        if isinstance(option, dict):
            value = str(option.get("value", option.get("label", "")))
            choices.append((value, str(option.get("label", value))))
        else:
            choices.append((str(option), str(option)))
    return choices


# A number as Installer.com sends it in a string: decimal digits, an optional fraction and
# exponent; no thousands separators, underscores, hex, infinities or NaN.
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_BOOLEAN_TEXT = {"true": True, "false": False, "1": True, "0": False}


def _number(value: Any) -> int | float:
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 100 or not _NUMBER_TEXT.fullmatch(text):
            raise ValueError(_("Must be a number, such as 12 or 7.5."))
        value = int(text) if text.lstrip("+-").isdigit() else float(text)
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(_("Must be a number, such as 12 or 7.5."))
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(_("Must be a finite number."))
    return value


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOLEAN_TEXT:
        return _BOOLEAN_TEXT[value.strip().lower()]
    raise ValueError(_("Must be true or false."))


def _date(value: Any) -> str:
    """An ISO date; an ISO date-time gives the date it names (its own offset, not converted)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return datetime.date.fromisoformat(text).isoformat()
        except ValueError:
            pass
        if "T" in text:
            try:
                return datetime.datetime.fromisoformat(text).date().isoformat()
            except ValueError:
                pass
    raise ValueError(_("Must be a date as YYYY-MM-DD."))


def _option(definition: CustomFieldDefinition, value: str) -> str | None:
    """The option's value for its value or its label, else None."""
    for option_value, label in option_choices(definition):
        if value in (option_value, label):
            return option_value
    return None


def _options(definition: CustomFieldDefinition, value: Any) -> list[str]:
    """A multiselect's options: a list, or a string holding one option, a JSON list or options
    separated by commas."""
    if isinstance(value, str):
        text = value.strip()
        if _option(definition, text) is not None:
            value = [text]
        elif text.startswith("["):
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                raise ValueError(_("Must be a list of options.")) from None
        else:
            value = [part.strip() for part in text.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(_("Must be a list of options."))
    chosen = [_option(definition, v) for v in value]
    unknown = [v for v, option in zip(value, chosen, strict=True) if option is None]
    if unknown:
        allowed = option_values(definition)
        raise ValueError(
            _("Unknown option(s) %(unknown)s; choose from: %(allowed)s.")
            % {"unknown": ", ".join(unknown), "allowed": ", ".join(allowed)}
        )
    return list(dict.fromkeys(option for option in chosen if option is not None))


def clean_custom_value(definition: CustomFieldDefinition, value: Any) -> Any:
    """Returns the value to store for this field, typed, or raises ValueError with a sentence.

    Each type takes its JSON value or, as Installer.com sends custom fields, a string: a number
    is a JSON number or a numeric string ("12", "7.5"), stored as a number; a boolean a JSON
    boolean or "true"/"false"/"1"/"0" (any case), stored as a boolean; a date an ISO date string
    (YYYY-MM-DD; an ISO date-time gives its date); a select one option (by value or label); a
    multiselect a list of options, or a string with one option, a JSON list or comma-separated
    options, stored as a list of option values.
    """
    kind = definition.type
    if kind == FieldType.TEXT:
        if not isinstance(value, str):
            raise ValueError(_("Must be a string."))
        if len(value) > 5000:
            raise ValueError(_("At most 5000 characters."))
        return value
    if kind == FieldType.NUMBER:
        return _number(value)
    if kind == FieldType.BOOLEAN:
        return _boolean(value)
    if kind == FieldType.DATE:
        return _date(value)
    if kind == FieldType.SELECT:
        option = _option(definition, value.strip()) if isinstance(value, str) else None
        if option is None:
            raise ValueError(_("Must be one of: %(options)s.") % {"options": ", ".join(option_values(definition))})
        return option
    if kind == FieldType.MULTISELECT:
        return _options(definition, value)
    raise ValueError("Unsupported field type.")  # pragma: no cover - guarded by a DB constraint


# Words a cancel sentence may add around a reason's own words ("Customer is not responding").
_FILLER_WORDS = frozenset({"a", "an", "the", "is", "are", "was", "has", "have", "been", "our", "their", "to"})


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w and w not in _FILLER_WORDS]


def cancel_reason_code(text: str) -> str | None:
    """The CancelReason a cancel reason names, or None. A code matches as it is; a sentence
    matches the first reason all of whose words it contains, ignoring case, punctuation and
    filler words ("Customer is not responding." -> customer_not_responding)."""
    if text in CancelReason.values:
        return text
    words = set(_words(text))
    for reason in CancelReason:
        if reason != CancelReason.OTHER and set(_words(reason.value)) <= words:
            return reason.value
    return CancelReason.OTHER.value if _words(text) == ["other"] else None


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


# Language tags a browser may send for Norwegian: Bokmål, generic Norwegian and Nynorsk all read
# Bokmål here (the languages offered are en and nb).
_NORWEGIAN = {"nb", "no", "nn"}


def language_from_accept(header: str) -> str | None:
    """The first language of an `Accept-Language` header that messages go out in (`en` or
    `nb`), by its q-value then its place; None when it names neither (the organization's
    language applies then)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        if quality <= 0:
            continue
        if primary in _NORWEGIAN:
            ranked.append((-quality, index, "nb"))
        elif primary == "en":
            ranked.append((-quality, index, "en"))
    return min(ranked)[2] if ranked else None
