"""Site-wide template tags: sortable column headers, Bootstrap form controls, small filters,
and the one way the desk shows a time (`abstime`, `when`)."""

from datetime import UTC, date, datetime

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import get_current_timezone, is_naive

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


# --- time: one absolute format, one relative wording ------------------------------------------
# Every time is shown in the viewer's zone (itsm.middleware.UserTimezoneMiddleware activates
# User.time_zone): absolute as "29 Nov 2026, 14:23 CET", relative as "3 h ago" inside a
# <time> whose title is the absolute form. Plain arithmetic and f-strings, no locale or
# translation machinery: the queue renders a few hundred of these per page.

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NONE = "—"
MINUTE, HOUR, DAY = 60, 3600, 86400
RELATIVE_DAYS = 30  # further away than this, the date says more than "41 days ago"


def zone_abbreviation(local: datetime) -> str:
    """'CET', 'EDT', 'UTC'; the tz database names some zones only by their offset ('+03',
    '-0330'): those read 'UTC+03', 'UTC-03:30'."""
    name = local.tzname() or ""
    if name.startswith(("+", "-")):
        return f"UTC{name[:3]}:{name[3:]}" if len(name) > 3 else f"UTC{name}"
    return name


def format_date(value: date) -> str:
    """'29 Nov 2026'."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def format_absolute(value: datetime | date | None) -> str:
    """'29 Nov 2026, 14:23 CET' in the active zone; '—' for None; a date alone for a date."""
    if not isinstance(value, datetime) or is_naive(value):
        return _not_aware(value)
    return _absolute(value.astimezone(get_current_timezone()))


def format_relative(value: datetime | None, now: datetime | None = None) -> str:
    """'just now', '5 min ago', '3 h ago', 'yesterday', '3 days ago', then the date; ahead of
    now: 'in 20 min', 'in 3 h', 'tomorrow', 'in 3 days'. Past 24 hours it counts calendar
    days in the viewer's zone: at 09:00, 30 hours ago (03:00 the day before) is 'yesterday'
    and 34 hours ago (23:00 two days before) is '2 days ago'."""
    if not isinstance(value, datetime) or is_naive(value):
        return _not_aware(value)
    return _relative(value, now or clock.now(), get_current_timezone())


def time_html(value: datetime | None, css: str = ""):
    """`<time datetime="ISO" title="29 Nov 2026, 14:23 CET">3 h ago</time>`; '—' for None."""
    if not isinstance(value, datetime) or is_naive(value):
        return _not_aware(value)
    zone = get_current_timezone()  # once: it is a context-local lookup, not free
    local = value.astimezone(zone)
    utc = value.astimezone(UTC)
    # Built by hand, not format_html: every part is digits, month names and tz database
    # abbreviations (letters, digits, + and -); only the caller's classes need escaping.
    iso = (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
           f"{utc.second:02d}Z")
    classes = f' class="{escape(css)}"' if css else ""
    return mark_safe(f'<time{classes} datetime="{iso}" title="{_absolute(local)}">'
                     f"{_relative(value, clock.now(), zone, local)}</time>")


def _not_aware(value) -> str:
    if value is None or value == "":
        return NONE
    if isinstance(value, datetime):  # naive: not from the database (USE_TZ), zone unknown
        return f"{format_date(value)}, {value.hour:02d}:{value.minute:02d}"
    return format_date(value) if isinstance(value, date) else str(value)


def _absolute(local: datetime) -> str:
    return (f"{local.day} {MONTHS[local.month - 1]} {local.year}, "
            f"{local.hour:02d}:{local.minute:02d} {zone_abbreviation(local)}")


def _relative(value: datetime, now: datetime, zone, local: datetime | None = None) -> str:
    seconds = (now - value).total_seconds()
    ahead, span = seconds < 0, abs(seconds)
    if span < MINUTE:  # either side: a clock a few seconds apart is not "in 1 min"
        return "just now"
    if span < DAY:
        count, unit = (int(span // MINUTE), "min") if span < HOUR else (int(span // HOUR), "h")
        return f"in {count} {unit}" if ahead else f"{count} {unit} ago"
    local = local or value.astimezone(zone)
    days = abs((local.date() - now.astimezone(zone).date()).days)
    if days > RELATIVE_DAYS:
        return format_date(local)
    if days <= 1:
        return "tomorrow" if ahead else "yesterday"
    return f"in {days} days" if ahead else f"{days} days ago"


@register.filter
def abstime(value):
    """`{{ dt|abstime }}` → '29 Nov 2026, 14:23 CET' (the viewer's zone), '—' for None."""
    return format_absolute(value)


@register.filter(name="when")
def when_filter(value):
    """`{{ dt|when }}` → a <time> saying '3 h ago', the absolute time in its tooltip."""
    return time_html(value)


@register.simple_tag(name="when")
def when_tag(value, **attrs):
    """`{% when dt %}` as the filter; `{% when dt class="ms-auto small" %}` adds classes."""
    return time_html(value, attrs.get("class", ""))


# The older names, still imported by incidents.templatetags.incident_tags (the queue rows):
# they give the same wording as `when`, so every page reads alike until it moves over.
@register.filter
def age(value):
    """The relative wording alone ('3 days ago'); empty for None."""
    return format_relative(value) if value else ""


@register.filter
def stamp(value):
    """The absolute time alone, for tooltips; empty for None (no '—' in a title)."""
    return format_absolute(value) if value else ""
