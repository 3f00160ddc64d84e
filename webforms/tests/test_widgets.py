"""The form's HTML written in Python (webforms/widgets.py) is the HTML Django's templates write,
byte for byte: each widget, label and error list is rendered both ways and compared, and so is
the whole form page. A Django upgrade that changes one of these templates fails here."""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.renderers import DjangoTemplates
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from orders.models import FieldType
from orders.tests.factories import add_custom_field
from webforms import selectors
from webforms.forms import WebformOrderForm
from webforms.tests.conftest import GOOD_POST, make_webform, make_workflow
from webforms.widgets import WRITERS, FixedChoices, OptionsSelect, WebformRenderer

STOCK = DjangoTemplates()
OURS = WebformRenderer()

ATTRS = [
    None,
    {"id": "id_x"},
    {"id": "id_x", "required": True, "disabled": False, "aria-invalid": "true", "aria-describedby": "id_x_error"},
    {"id": "id_x", "class": "a b", "data-x": 'quote " & <tag>', "maxlength": 300, "step": "any"},
    {"data-safe": mark_safe("<b>kept</b>"), "autocomplete": "off", "tabindex": "-1"},
]


def both(widget: forms.Widget, name: str, value, attrs) -> tuple[str, str]:
    return (
        widget.render(name, value, attrs=attrs, renderer=STOCK),
        widget.render(name, value, attrs=attrs, renderer=OURS),
    )


INPUTS = [
    (forms.TextInput(), ["", None, 'Kari <Nordmann> & "co"', mark_safe("<i>safe</i>"), 12, 7.5]),
    (forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}), ["+47 22 33 44 55"]),
    (forms.EmailInput(), ["a@b.no", "not an email"]),
    (forms.NumberInput(attrs={"step": "any"}), [None, "abc", 7.5, 3]),
    (forms.DateInput(attrs={"type": "date"}), [None, "x", datetime.date(2026, 1, 31)]),
    (forms.DateTimeInput(), [datetime.datetime(2026, 1, 31, 12, 30)]),
    (forms.TimeInput(), [datetime.time(8, 15)]),
    (forms.HiddenInput(), [uuid.UUID("8a6a1c43-8a77-4c5e-9d7a-3e4e6f0a0b11"), ""]),
    (forms.CheckboxInput(), [True, False, None, "on"]),
    (forms.FileInput(attrs={"accept": "image/*"}), [None]),
    (forms.ClearableFileInput(attrs={"accept": "image/*"}), [None, SimpleUploadedFile("a.png", b"x")]),
    (forms.PasswordInput(render_value=True), ["secret"]),
    (forms.URLInput(), ["https://example.com/?a=1&b=2"]),
    (forms.SearchInput(), ["q"]),
    (forms.TelInput(), ["123"]),
    (forms.ColorInput(), ["#ffffff"]),
    (forms.Textarea(attrs={"rows": 4}), ["", None, "Line one\nLine <two> & three", mark_safe("<b>x</b>")]),
]


@pytest.mark.parametrize(
    ("widget", "values"), INPUTS, ids=lambda v: type(v).__name__ if isinstance(v, forms.Widget) else ""
)
@pytest.mark.parametrize("attrs", ATTRS)
def test_inputs_and_textarea_are_written_as_the_templates_write_them(widget, values, attrs):
    for value in values:
        stock, ours = both(widget, "field_name", value, attrs)
        assert ours == stock


class FakeStoredFile:
    url = "/media/photo.png"

    def __str__(self):
        return "photo.png"


def test_clearable_file_input_with_a_stored_file_falls_back_to_the_template():
    widget = forms.ClearableFileInput()
    stock, ours = both(widget, "photo", FakeStoredFile(), {"id": "id_photo"})
    assert ours == stock and "photo.png" in ours


CHOICES = [
    [("", "Choose…"), ("11 kW", "11 kW"), ("22 kW", "22 kW")],
    [("a<", "A & b"), ("b", mark_safe("<em>B</em>")), (3, 3), (None, "none"), ("lazy", gettext_lazy("Lazy"))],
    [("", "Choose"), ("Group <1>", [("a", "A"), ("b", "B")]), ("c", "C"), ("", [("d", "D")])],
]
VALUES = [None, "", "b", 3, "3", ["a", "b"], "d", "nothing"]


@pytest.mark.parametrize("choices", CHOICES)
@pytest.mark.parametrize("attrs", ATTRS)
def test_options_select_writes_what_select_writes(choices, attrs):
    for multiple in (False, True):
        stock_class = forms.SelectMultiple if multiple else forms.Select
        ours_class = type("OptionsSelectMultiple", (OptionsSelect,), {"allow_multiple_selected": True})
        ours_widget = ours_class(choices=choices) if multiple else OptionsSelect(choices=choices)
        for value in VALUES:
            stock = stock_class(choices=choices).render("country_code", value, attrs=attrs, renderer=STOCK)
            assert ours_widget.render("country_code", value, attrs=attrs) == stock


def test_the_first_matching_option_is_the_only_one_selected():
    html = OptionsSelect(choices=[("a", "A"), ("a", "A again")]).render("x", "a")
    assert html.count(" selected") == 1 and '<option value="a" selected>A</option>' in html


@pytest.mark.parametrize("multiple", [False, True])
@pytest.mark.parametrize("attrs", ATTRS)
def test_checkbox_and_radio_lists_are_written_as_the_templates_write_them(multiple, attrs):
    widget_class = forms.CheckboxSelectMultiple if multiple else forms.RadioSelect
    for choices in CHOICES:
        widget = widget_class(choices=choices)
        for value in VALUES:
            stock, ours = both(widget, "cf_extras", value, attrs)
            assert ours == stock


def test_labels_and_error_lists_are_written_as_the_templates_write_them():
    class Sample(forms.Form):
        name = forms.CharField(label="Your <name>")
        when = forms.DateField(label="When?")
        agree = forms.BooleanField(label=mark_safe("I <b>agree</b>"))
        extras = forms.MultipleChoiceField(choices=[("a", "A")], widget=forms.CheckboxSelectMultiple)

    for auto_id in ("id_%s", False):
        stock = Sample({"when": "x", "extras": ["z"]}, renderer=STOCK, auto_id=auto_id)
        ours = Sample({"when": "x", "extras": ["z"]}, renderer=OURS, auto_id=auto_id)
        stock.add_error(None, "Something <went> wrong")
        ours.add_error(None, "Something <went> wrong")
        for name in Sample.base_fields:
            assert ours[name].label_tag() == stock[name].label_tag()
            assert ours[name].label_tag(attrs={"class": "x"}, label_suffix=":") == stock[name].label_tag(
                attrs={"class": "x"}, label_suffix=":"
            )
            assert str(ours[name].errors) == str(stock[name].errors)
            assert str(ours[name]) == str(stock[name])
        assert str(ours.non_field_errors()) == str(stock.non_field_errors())
        assert "errorlist" in str(ours["name"].errors)
    # Templates not written in Python still render through Django's templates.
    assert str(ours) == str(stock)


def test_only_django_form_templates_are_written_in_python():
    assert all(name.startswith("django/forms/") for name in WRITERS)


def test_fixed_choices_validate_and_render_like_a_list():
    pairs = [("NO", "Norway"), ("SE", "Sweden")]
    fixed = FixedChoices([("", "Choose"), *pairs])
    field = forms.ChoiceField(choices=fixed, widget=OptionsSelect)
    assert field.choices is fixed  # not copied or normalized again
    assert field.clean("SE") == "SE"
    with pytest.raises(forms.ValidationError):
        field.clean("DK")
    assert list(fixed) == [("", "Choose"), *pairs] and len(fixed) == 3
    stock = forms.Select(choices=[("", "Choose"), *pairs]).render("c", "SE", renderer=STOCK)
    assert field.widget.render("c", "SE") == stock


# --------------------------------------------------------------------------------------------
# The whole page
# --------------------------------------------------------------------------------------------


def stock_form(*args, **kwargs) -> WebformOrderForm:
    """The same form rendered only by Django's templates and its own Select widget."""
    form = WebformOrderForm(*args, renderer=STOCK, **kwargs)
    for field in form.fields.values():
        if isinstance(field.widget, OptionsSelect):
            field.widget = forms.Select(attrs=field.widget.attrs)
            field.widget.is_required = field.required
            field.choices = list(field.choices)
    return form


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {**GOOD_POST, "phone_number": "12", "cf_cable_length_m": "abc", "cf_extras": ["nope"], "country_code": "SE"},
        {**GOOD_POST, "email": "<script>", "cf_charger_type": "zzz", "cf_preferred_date": "x", "cf_has_parking": "on"},
    ],
)
def test_the_form_page_is_the_html_djangos_templates_write(org_a, data):
    workflow = make_workflow(org_a)
    add_custom_field(workflow, "level", FieldType.SELECT, options=[{"value": "1", "label": "One & <only>"}, "2"])
    webform = make_webform(
        org_a,
        workflow=workflow,
        multiline_fields=["notes"],
        allow_photo=True,
        standard_fields={"workplace": "optional", "countryCode": "required", "description": "optional"},
    )
    webform = selectors.webform_by_slug(webform.slug)
    specs = selectors.webform_fields(webform)
    initial = {"country_code": "NO", "submission": uuid.UUID("8a6a1c43-8a77-4c5e-9d7a-3e4e6f0a0b11")}
    args = () if data is None else (data, {})
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = "x" * 32
    pages = []
    for build in (WebformOrderForm, stock_form):
        form = build(*args, initial=initial, specs=specs, allow_photo=True)
        if data is not None:
            form.is_valid()
        html = render_to_string("webforms/form.html", {"webform": webform, "form": form}, request=request)
        pages.append(re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html))
    ours, stock = pages
    assert ours == stock
    assert '<option value="NO" selected>Norway</option>' in ours or data is not None
    assert '<select name="cf_level"' in ours and "One &amp; &lt;only&gt;" in ours
