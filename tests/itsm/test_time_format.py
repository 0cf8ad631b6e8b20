"""One way to show a time: `abstime` ("29 Nov 2026, 14:23 CET") and `when` ("3 h ago" in a
<time> whose tooltip is the absolute time), in the viewer's zone, with frozen clocks."""

import time
import zoneinfo
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.template import Context, Template
from django.utils import timezone

from itsm.templatetags.desk import abstime, age, format_relative, stamp, time_html, when_filter

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
ISTANBUL = zoneinfo.ZoneInfo("Europe/Istanbul")  # the tz database calls it "+03"
NOW = datetime(2026, 11, 29, 13, 23, tzinfo=UTC)  # 14:23 in Berlin, 16:23 in Istanbul


@pytest.fixture
def in_zone():
    """`in_zone(zone)`: the viewer's zone for the rest of the test, as the middleware sets it."""
    yield timezone.activate
    timezone.deactivate()


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def render(source, **context):
    return Template("{% load desk %}" + source).render(Context(context))


# --- absolute ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("zone", "expected"), [
    ("UTC", "29 Nov 2026, 13:23 UTC"),
    ("Europe/Berlin", "29 Nov 2026, 14:23 CET"),
    ("America/New_York", "29 Nov 2026, 08:23 EST"),
    ("Europe/Istanbul", "29 Nov 2026, 16:23 UTC+03"),
    ("America/Sao_Paulo", "29 Nov 2026, 10:23 UTC-03"),
    ("Asia/Kathmandu", "29 Nov 2026, 19:08 UTC+05:45"),
    ("Australia/Sydney", "30 Nov 2026, 00:23 AEDT"),
])
def test_the_absolute_time_is_in_the_viewers_zone_with_its_abbreviation(in_zone, zone,
                                                                         expected):
    in_zone(zoneinfo.ZoneInfo(zone))
    assert abstime(NOW) == expected


def test_the_abbreviation_follows_daylight_saving_time(in_zone):
    in_zone(BERLIN)
    # 2026-03-29: at 01:00 UTC Berlin's clocks go from 02:00 CET to 03:00 CEST.
    assert abstime(datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == "29 Mar 2026, 01:59 CET"
    assert abstime(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "29 Mar 2026, 03:00 CEST"
    # 2026-10-25: 02:30 happens twice, once in summer time and once in winter time.
    assert abstime(datetime(2026, 10, 25, 0, 30, tzinfo=UTC)) == "25 Oct 2026, 02:30 CEST"
    assert abstime(datetime(2026, 10, 25, 1, 30, tzinfo=UTC)) == "25 Oct 2026, 02:30 CET"


def test_the_site_zone_applies_to_a_viewer_without_one(settings):
    timezone.deactivate()
    assert settings.TIME_ZONE == "UTC"
    assert abstime(NOW) == "29 Nov 2026, 13:23 UTC"


def test_nothing_is_a_dash_and_a_date_is_a_date():
    assert abstime(None) == "—" and abstime("") == "—"
    assert abstime(date(2026, 2, 3)) == "3 Feb 2026"
    # The older names keep an empty answer for nothing: they end up in title="" attributes.
    assert stamp(None) == "" and age(None) == ""


# --- relative ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("moved", "expected"), [
    (timedelta(seconds=-30), "just now"),
    (timedelta(seconds=30), "just now"),  # a clock a few seconds ahead is not the future
    (timedelta(minutes=-5), "5 min ago"),
    (timedelta(minutes=-59, seconds=-59), "59 min ago"),
    (timedelta(hours=-3, minutes=-40), "3 h ago"),
    (timedelta(hours=-23), "23 h ago"),
    (timedelta(hours=-30), "yesterday"),
    (timedelta(days=-3), "3 days ago"),
    (timedelta(days=-30), "30 days ago"),
    (timedelta(days=-45), "15 Oct 2026"),
    (timedelta(minutes=20), "in 20 min"),
    (timedelta(hours=3), "in 3 h"),
    (timedelta(hours=30), "tomorrow"),
    (timedelta(days=3), "in 3 days"),
    (timedelta(days=90), "27 Feb 2027"),
])
def test_the_relative_wording(frozen, in_zone, moved, expected):
    in_zone(BERLIN)
    assert format_relative(NOW + moved) == expected


def test_days_are_counted_in_the_viewers_zone(in_zone):
    # 09:00 in Berlin; 33 h 30 min before it is 00:30 Berlin on the 28th, but still the 27th
    # in UTC: yesterday for a Berliner, two days ago for someone reading in UTC.
    now = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    then = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
    in_zone(BERLIN)
    assert format_relative(then, now) == "yesterday"
    in_zone(zoneinfo.ZoneInfo("UTC"))
    assert format_relative(then, now) == "2 days ago"


def test_days_across_a_daylight_saving_change_are_calendar_days(in_zone):
    in_zone(BERLIN)
    # Three calendar days before 29 Mar 12:00 CEST is 26 Mar 12:00 CET: 71 hours, not 72.
    now = datetime(2026, 3, 29, 10, 0, tzinfo=UTC)
    assert format_relative(datetime(2026, 3, 26, 11, 0, tzinfo=UTC), now) == "3 days ago"


def test_relative_times_in_a_numbered_zone(frozen, in_zone):
    in_zone(ISTANBUL)
    assert format_relative(NOW - timedelta(hours=2)) == "2 h ago"
    # 22:00 Istanbul on the 27th is two calendar days before 16:23 on the 29th.
    assert format_relative(datetime(2026, 11, 27, 19, 0, tzinfo=UTC)) == "2 days ago"


# --- the <time> element and the template tags ---------------------------------------------------

def test_when_is_a_time_element_with_the_absolute_time_as_its_tooltip(frozen, in_zone):
    in_zone(BERLIN)
    opened = NOW - timedelta(hours=3)
    expected = ('<time datetime="2026-11-29T10:23:00Z" title="29 Nov 2026, 11:23 CET">'
                "3 h ago</time>")
    assert when_filter(opened) == expected
    assert render("{% when opened %}", opened=opened) == expected
    assert render("{{ opened|when }}", opened=opened) == expected
    assert render("{{ opened|abstime }}", opened=opened) == "29 Nov 2026, 11:23 CET"


def test_when_takes_classes_escaped(frozen, in_zone):
    in_zone(ISTANBUL)
    html = render('{% when at class="ms-auto small" %}|{% when at class=odd %}',
                  at=NOW + timedelta(minutes=20), odd='"><script>')
    assert html.startswith('<time class="ms-auto small" datetime="2026-11-29T13:43:00Z" '
                           'title="29 Nov 2026, 16:43 UTC+03">in 20 min</time>|')
    assert "<script>" not in html and 'class="&quot;&gt;&lt;script&gt;"' in html


def test_when_for_nothing_is_a_dash():
    assert render("{% when missing %}|{{ missing|when }}|{{ missing|abstime }}") == "—|—|—"
    assert time_html(None) == "—"


def test_the_older_filters_read_like_the_new_ones(frozen, in_zone):
    in_zone(BERLIN)
    assert stamp(NOW) == abstime(NOW)
    assert age(NOW - timedelta(days=3)) == "3 days ago"


def test_a_queue_page_of_times_is_fast_and_loads_no_zone(frozen, in_zone):
    """Fifty rows of several columns: the active zone is used as it is, never looked up."""
    in_zone(BERLIN)
    values = [NOW - timedelta(minutes=37 * n) for n in range(500)]
    time_html(values[0])  # warm up
    with mock.patch("zoneinfo.ZoneInfo", side_effect=AssertionError("a zone lookup")):
        started = time.perf_counter()
        rendered = [time_html(value) for value in values]
        elapsed = time.perf_counter() - started
    assert len(set(rendered)) == 500
    # About 15 µs each on a quiet machine; the bound leaves room for a busy CI one.
    assert elapsed < 0.5, f"500 times took {elapsed:.3f} s"
