"""How the public form writes its fields' HTML: the same markup as Django's form templates,
written in Python.

The form page is built and rendered for every request, and Django renders each widget, label
and error list through templates (a <select> includes one template per <option>, plus one for
its attributes). For the form's country list (about 250 options) and its ~15 fields that was
most of the page's cost (~20 ms of ~25 ms of CPU per request).

- `OptionsSelect` writes what `forms.Select` writes, without templates; with `FixedChoices`
  (choices built once per process) its options are escaped once, not per request, and the
  field does not normalize them again.
- `WebformRenderer` is Django's default form renderer, except that the few small templates
  the form uses for each field (inputs, textarea, checkbox lists, labels, error lists) are
  written in Python. Anything else still goes through the templates.

Both produce the same HTML as Django's, byte for byte: webforms/tests/test_widgets.py renders
every widget, label and error list both ways and compares them, so a Django upgrade that
changes a template fails there rather than changing the page unnoticed.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.choices import BaseChoiceIterator
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.timezone import template_localtime


def _escape(value) -> str:
    """conditional_escape(), without its overhead for plain text (the same characters)."""
    return html.escape(value) if type(value) is str else conditional_escape(value)


def _label(value) -> str:
    """`{{ value }}` in an autoescaping template (values that are not text are localized)."""
    if not isinstance(value, str):
        value = localize(template_localtime(value))
    return _escape(value)


def _string(value) -> str:
    """`{{ value|stringformat:'s' }}` in an autoescaping template."""
    text = str(value)
    return text if isinstance(value, SafeData) else html.escape(text)


def attrs_html(attrs: dict | None) -> str:
    """django/forms/widgets/attrs.html (and django/forms/attrs.html): ` name="value"`, a bare
    ` name` for True, nothing for False."""
    parts = []
    for name, value in (attrs or {}).items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {_label(name)}")
        else:
            parts.append(f' {_label(name)}="{_string(value)}"')
    return "".join(parts)


class FixedChoices(BaseChoiceIterator):
    """Choices in Django's normalized form ((value, label) pairs, a label may be a list of pairs
    for a group), built once and shared by every form instance and thread. Django leaves a
    choice iterator as it is instead of normalizing it again for each field, and `OptionsSelect`
    uses the options' HTML written here once. Labels must be plain text: a lazy translation
    would be frozen in the language active when the choices were built."""

    def __init__(self, pairs: Iterable[tuple]):
        self.pairs = tuple(pairs)
        self.entries = tuple(option_entries(self.pairs))

    def __iter__(self):
        return iter(self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)


def option_entries(choices) -> list:
    """What select.html writes for the choices, ready to join: for each option a tuple
    (value as text, its HTML, its HTML when selected); optgroup tags as plain strings."""
    entries: list = []
    for option_value, option_label in choices:
        if option_value is None:
            option_value = ""
        if isinstance(option_label, (list, tuple)):
            group_name, group = option_value, option_label
        else:
            group_name, group = None, ((option_value, option_label),)
        if group_name:
            entries.append(f'\n  <optgroup label="{_label(group_name)}">')
        for subvalue, sublabel in group:
            text = str(subvalue)
            head = f'\n  <option value="{_string(subvalue)}"'
            tail = f">{_label(sublabel)}</option>\n"
            entries.append((text, head + tail, head + " selected" + tail))
        if group_name:
            entries.append("\n  </optgroup>")
    return entries


class OptionsSelect(forms.Select):
    """`forms.Select` with the same HTML (django/forms/widgets/select.html and select_option.html),
    written in Python. Only what the templates read is used: the widget's name, value and
    attributes, and its choices (flat or grouped), with the same rule for which option is
    selected as `ChoiceWidget.optgroups()`."""

    def get_context(self, name, value, attrs):
        # What select.html reads besides the options; optgroups() is not built (render() walks
        # the choices itself).
        context = forms.Widget.get_context(self, name, value, attrs)
        if self.allow_multiple_selected:
            context["widget"]["attrs"]["multiple"] = True
        return context

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        values = widget["value"]
        multiple = self.allow_multiple_selected
        choices = self.choices
        entries = choices.entries if isinstance(choices, FixedChoices) else option_entries(choices)
        out = [f'<select name="{_label(widget["name"])}"{attrs_html(widget["attrs"])}>']
        has_selected = False
        for entry in entries:
            if type(entry) is str:
                out.append(entry)
                continue
            text, plain, chosen = entry
            selected = (not has_selected or multiple) and text in values
            has_selected |= selected
            out.append(chosen if selected else plain)
        out.append("\n</select>")
        return mark_safe("".join(out))  # noqa: S308 - every value and label above is escaped


# --------------------------------------------------------------------------------------------
# The form renderer
# --------------------------------------------------------------------------------------------


def _input(widget: dict) -> str:
    """django/forms/widgets/input.html (text, email, number, date, hidden, checkbox, ...)."""
    value = widget["value"]
    value_html = "" if value is None else f' value="{_string(value)}"'
    return (
        f'<input type="{_label(widget["type"])}" name="{_label(widget["name"])}"{value_html}'
        f"{attrs_html(widget['attrs'])}>"
    )


def _write_input(context: dict) -> str:
    return _input(context["widget"])


def _write_textarea(context: dict) -> str:
    widget = context["widget"]
    value = widget["value"]
    return (
        f'<textarea name="{_label(widget["name"])}"{attrs_html(widget["attrs"])}>\n'
        f"{_label(value) if value else ''}</textarea>"
    )


def _write_clearable_file_input(context: dict) -> str | None:
    widget = context["widget"]
    if widget["is_initial"]:
        return None  # a stored file with its "clear" checkbox: the template writes that
    return f'<input type="{_label(widget["type"])}" name="{_label(widget["name"])}"{attrs_html(widget["attrs"])}>'


OPTION_TEMPLATES = {"django/forms/widgets/checkbox_option.html", "django/forms/widgets/radio_option.html"}


def _write_multiple_input(context: dict) -> str | None:
    """django/forms/widgets/multiple_input.html with checkbox_option.html or radio_option.html
    (input_option.html) for each option."""
    widget = context["widget"]
    attrs = widget["attrs"]
    id_, css = attrs.get("id"), attrs.get("class")
    id_html = f' id="{_label(id_)}"' if id_ else ""
    class_html = f' class="{_label(css)}"' if css else ""
    out = [f"<div{id_html}{class_html}>"]
    for group, options, _index in widget["optgroups"]:
        if group:
            out.append(f"\n  <div><label>{_label(group)}</label>")
        for option in options:
            if option["template_name"] not in OPTION_TEMPLATES:
                return None
            if option["wrap_label"]:
                option_id = option["attrs"].get("id")
                label_open = f'<label for="{_label(option_id)}">' if option_id else "<label>"
                out.append(f"<div>\n    {label_open}{_input(option)}\n {_label(option['label'])}</label>\n\n</div>")
            else:
                out.append(f"<div>\n    {_input(option)}\n\n\n</div>")
        if group:
            out.append("\n  </div>")
    out.append("\n</div>")
    return "".join(out)


def _write_label(context: dict) -> str:
    """django/forms/label.html (BoundField.label_tag())."""
    if not context["use_tag"]:
        return _label(context["label"])
    tag = _label(context["tag"])
    return f"<{tag}{attrs_html(context['attrs'])}>{_label(context['label'])}</{tag}>"


def _write_error_list(context: dict) -> str:
    """django/forms/errors/list/default.html and ul.html (a field's or the form's errors)."""
    errors = context["errors"]
    if not errors:
        return ""
    field_id = getattr(errors, "field_id", None)
    id_html = f' id="{_label(field_id)}_error"' if field_id else ""
    items = "".join(f"<li>{_label(error)}</li>" for error in errors)
    return f'<ul class="{_label(context["error_class"])}"{id_html}>{items}</ul>'


WRITERS = {
    **{
        f"django/forms/widgets/{name}.html": _write_input
        for name in (
            "input",
            "text",
            "email",
            "number",
            "date",
            "datetime",
            "time",
            "hidden",
            "checkbox",
            "file",
            "password",
            "search",
            "tel",
            "url",
            "color",
        )
    },
    "django/forms/widgets/textarea.html": _write_textarea,
    "django/forms/widgets/clearable_file_input.html": _write_clearable_file_input,
    "django/forms/widgets/checkbox_select.html": _write_multiple_input,
    "django/forms/widgets/radio.html": _write_multiple_input,
    "django/forms/widgets/multiple_input.html": _write_multiple_input,
    "django/forms/label.html": _write_label,
    "django/forms/errors/list/default.html": _write_error_list,
    "django/forms/errors/list/ul.html": _write_error_list,
}


class WebformRenderer(DjangoTemplates):
    """Django's default form renderer; the templates in WRITERS are written in Python instead,
    with the same output (stripped, as `BaseRenderer.render()` strips a template's output)."""

    def render(self, template_name, context, request=None):
        write = WRITERS.get(template_name)
        if write is not None:
            html_text = write(context)
            if html_text is not None:
                return html_text.strip()
        return super().render(template_name, context, request=request)
