"""Field rules shared by the API, the webforms and the admin: one place says what a valid
country, phone number and custom field value is."""

from __future__ import annotations

import datetime
import math
from typing import Any

import phonenumbers

from orders.models import CustomFieldDefinition, FieldType

COUNTRY_CODES = frozenset(phonenumbers.SUPPORTED_REGIONS)


def normalize_country(value: Any) -> str:
    """Upper-cases and checks an ISO 3166-1 alpha-2 code; raises ValueError with a sentence."""
    if not isinstance(value, str) or len(value.strip()) != 2:
        raise ValueError("Must be an ISO 3166-1 alpha-2 country code, such as NO or DE.")
    code = value.strip().upper()
    if code not in COUNTRY_CODES:
        raise ValueError(f"'{value}' is not a known ISO 3166-1 alpha-2 country code.")
    return code


def normalize_phone(value: Any, country_code: str | None) -> str:
    """Parses a phone number for the country and returns it in E.164; raises ValueError."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("Enter a phone number.")
    try:
        parsed = phonenumbers.parse(value, country_code or None)
    except phonenumbers.NumberParseException:
        raise ValueError("Enter a valid phone number, for example +47 22 12 34 56.") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("Enter a valid phone number, for example +47 22 12 34 56.")
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


def clean_custom_value(definition: CustomFieldDefinition, value: Any) -> Any:
    """Returns the value to store for this field, or raises ValueError with a sentence.

    Types are strict on the wire: a number is a JSON number, a boolean a JSON boolean, a date an
    ISO date string (YYYY-MM-DD), a select one of the options, a multiselect a list of options.
    """
    kind = definition.type
    if kind == FieldType.TEXT:
        if not isinstance(value, str):
            raise ValueError("Must be a string.")
        if len(value) > 5000:
            raise ValueError("At most 5000 characters.")
        return value
    if kind == FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("Must be a number.")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("Must be a finite number.")
        return value
    if kind == FieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError("Must be true or false.")
        return value
    if kind == FieldType.DATE:
        if not isinstance(value, str):
            raise ValueError("Must be a date as YYYY-MM-DD.")
        try:
            return datetime.date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValueError("Must be a date as YYYY-MM-DD.") from None
    allowed = option_values(definition)
    if kind == FieldType.SELECT:
        if not isinstance(value, str) or value not in allowed:
            raise ValueError(f"Must be one of: {', '.join(allowed)}.")
        return value
    if kind == FieldType.MULTISELECT:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("Must be a list of options.")
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise ValueError(f"Unknown option(s) {', '.join(unknown)}; choose from: {', '.join(allowed)}.")
        return list(dict.fromkeys(value))
    raise ValueError("Unsupported field type.")  # pragma: no cover - guarded by a DB constraint


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []
