"""Site-wide template tags: sortable column headers, Bootstrap form controls, small filters."""

from django import template
from django.utils.html import format_html
from django.utils.timezone import localtime

from itsm import clock

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_link(context, field, label):
    """A column header that sorts by `field`, toggling direction on a second click."""
    request = context["request"]
    current = request.GET.get("ordering", "")
    params = request.GET.copy()
    params.pop("page", None)
    params["ordering"] = f"-{field}" if current == field else field
    arrow = " ▲" if current == field else " ▼" if current == f"-{field}" else ""
    return format_html('<a class="sort-link" href="?{}">{}{}</a>', params.urlencode(), label,
                       arrow)


@register.simple_tag
def field_control(bound_field):
    """Render a form field with Bootstrap classes and its invalid state."""
    input_type = getattr(bound_field.field.widget, "input_type", "")
    base = {"checkbox": "form-check-input", "select": "form-select"}.get(input_type,
                                                                      "form-control")
    css = f"{base} is-invalid" if bound_field.errors else base
    return bound_field.as_widget(attrs={"class": css})


@register.filter
def get_item(mapping, key):
    return mapping.get(key)


# Whole units, largest first. Plain arithmetic: a queue page shows a hundred of these, and
# django's timesince (translations, calendar months) was a tenth of its rendering time.
AGE_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400),
             ("day", 86400), ("hour", 3600), ("minute", 60))


@register.filter
def age(value):
    """'3 days ago', '5 minutes ago': the largest unit only, to keep queue columns narrow."""
    if value is None:
        return ""
    seconds = (clock.now() - value).total_seconds()
    for unit, length in AGE_UNITS:
        if seconds >= length:
            count = int(seconds // length)
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "just now"


@register.filter
def stamp(value):
    """The exact time in the viewer's zone, for tooltips: '2026-12-01 10:42 CET'."""
    return localtime(value).strftime("%Y-%m-%d %H:%M %Z") if value else ""

