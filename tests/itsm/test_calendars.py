"""Business calendars: the change service, the holiday tools and the admin pages."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from itsm import business_time
from itsm.calendars import (
    OFFICE_DAY,
    CalendarChanged,
    calendar_changed,
    holidays_generate,
    holidays_import_ics,
)
from itsm.choices import Role
from itsm.events import subscribed
from itsm.exceptions import InvalidInput
from itsm.models import BusinessCalendar, Holiday, User, WorkingInterval, minute_label
from tests.factories import AgentFactory, UserFactory

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def published():
    """The CalendarChanged events published while the test runs."""
    events = []
    with subscribed(CalendarChanged, events.append):
        yield events


@pytest.fixture
def calendar(db):
    """Office hours in London, with nothing else on it."""
    calendar = BusinessCalendar.objects.create(name="London office", time_zone="Europe/London")
    WorkingInterval.objects.bulk_create(
        WorkingInterval(calendar=calendar, weekday=day, start_minute=start, end_minute=end)
        for day in range(5) for start, end in OFFICE_DAY)
    return calendar


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def change_url(calendar):
    return reverse("admin:itsm_businesscalendar_change", args=[calendar.pk])


def tool_url(calendar, tool):
    return reverse(f"admin:itsm_businesscalendar_{tool}", args=[calendar.pk])


def calendar_form(*, name="Support hours", intervals=(), holidays=(), existing=None):
    """POST data for the calendar add/change page: new interval and holiday rows, plus the
    existing rows of `existing` unchanged (the change page posts them all back)."""
    data = {"name": name, "time_zone": "Europe/London", "description": ""}
    old_intervals = [] if existing is None else list(existing.intervals.all())
    shown_since = timezone.localdate() - timedelta(days=365)  # as the holiday inline
    old_holidays = [] if existing is None else list(existing.holidays.filter(
        date__gte=shown_since))
    rows = [{"id": row.pk, "calendar": existing.pk, "weekday": row.weekday,
             "start_minute": minute_label(row.start_minute),
             "end_minute": minute_label(row.end_minute)} for row in old_intervals]
    rows += [{"weekday": weekday, "start_minute": start, "end_minute": end}
             for weekday, start, end in intervals]
    data |= _formset("intervals", rows, initial=len(old_intervals))
    rows = [{"id": row.pk, "calendar": existing.pk, "date": row.date, "name": row.name,
             "closed_from_minute": "", "closed_until_minute": ""} for row in old_holidays]
    rows += [{"date": day, "name": label, "closed_from_minute": closed_from,
              "closed_until_minute": closed_until}
             for day, label, closed_from, closed_until in holidays]
    data |= _formset("holidays", rows, initial=len(old_holidays))
    return data


def _formset(prefix, rows, *, initial):
    data = {f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": initial,
            f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000}
    for i, row in enumerate(rows):
        data |= {f"{prefix}-{i}-{key}": value for key, value in row.items()}
    return data


# --- calendar_changed and the engine's cache ------------------------------------------------


def test_calendar_changed_bumps_the_version_and_publishes_once(calendar, published):
    calendar_changed(calendar)
    assert calendar.version == 2
    assert BusinessCalendar.objects.get(pk=calendar.pk).version == 2
    assert [event.calendar for event in published] == [calendar]
    assert published[0].at is not None


def test_working_time_is_cached_until_the_calendar_changes(calendar):
    first = business_time.working_time(calendar)
    assert business_time.working_time(calendar) is first
    WorkingInterval.objects.create(calendar=calendar, weekday=5, start_minute=600,
                                   end_minute=720)
    calendar_changed(calendar)
    reloaded = business_time.working_time(calendar)
    assert reloaded is not first
    assert reloaded.week[5] == ((600, 720),)


def test_the_engine_reads_a_calendar_from_the_database(calendar):
    Holiday.objects.create(calendar=calendar, date=date(2026, 12, 24), name="Christmas Eve",
                           closed_from_minute=13 * 60)
    Holiday.objects.create(calendar=calendar, date=date(2026, 12, 25), name="Christmas Day")
    start = datetime(2026, 12, 24, 11, tzinfo=LONDON)
    due = business_time.add_business_time(calendar, start, timedelta(hours=3))
    assert due == datetime(2026, 12, 28, 10, 0, tzinfo=LONDON)


# --- Public holidays ----------------------------------------------------------------------


def test_generating_public_holidays_adds_the_real_dates(calendar, published):
    added = holidays_generate(calendar, country="GB", subdivision="ENG", year=2026)
    days = dict(calendar.holidays.values_list("date", "name"))
    assert added == len(days) == 9
    assert days[date(2026, 4, 3)] == "Good Friday"
    assert days[date(2026, 12, 25)] == "Christmas Day"
    assert days[date(2026, 12, 28)] == "Boxing Day (observed)"
    assert days[date(2026, 8, 31)] == "Late Summer Bank Holiday"
    assert all(holiday.closed_minutes == (0, 1440) for holiday in calendar.holidays.all())
    assert len(published) == 1


def test_generating_twice_adds_nothing_and_keeps_dates_already_there(calendar, published):
    Holiday.objects.create(calendar=calendar, date=date(2026, 12, 25), name="Office party",
                           closed_from_minute=12 * 60)
    assert holidays_generate(calendar, country="gb", subdivision="eng", year=2026) == 8
    assert holidays_generate(calendar, country="GB", subdivision="ENG", year=2026) == 0
    assert calendar.holidays.get(date=date(2026, 12, 25)).name == "Office party"
    assert len(published) == 1  # adding nothing changes nothing


@pytest.mark.parametrize(("country", "subdivision", "field", "message"), [
    ("XX", "", "country", "No public holidays are known for country 'XX'"),
    ("GB", "ZZ", "subdivision", "GB has no subdivision 'ZZ'; known: ENG, NIR, SCT, WLS"),
])
def test_an_unknown_country_or_region_is_refused(calendar, published, country, subdivision,
                                                 field, message):
    with pytest.raises(InvalidInput) as error:
        holidays_generate(calendar, country=country, subdivision=subdivision, year=2026)
    assert message in error.value.field_errors[field][0]
    assert not calendar.holidays.exists()
    assert published == []


# --- .ics import --------------------------------------------------------------------------

FEED = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Service desk tests//EN\r
BEGIN:VEVENT\r
UID:new-year@example.com\r
SUMMARY:New Year's Day\r
DTSTART;VALUE=DATE:20260101\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:christmas@example.com\r
SUMMARY:Christmas closure\r
DTSTART;VALUE=DATE:20261224\r
DTEND;VALUE=DATE:20261227\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:party@example.com\r
SUMMARY:Summer party\r
DTSTART;TZID=Europe/London:20260701T130000\r
DTEND;TZID=Europe/London:20260701T170000\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:fire-drill@example.com\r
SUMMARY:Fire drill\r
DTSTART:20260702T120000Z\r
DTEND:20260702T130000Z\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:maintenance@example.com\r
SUMMARY:Building maintenance\r
DTSTART:20260703T220000\r
DTEND:20260704T020000\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_an_ics_feed_becomes_whole_and_part_day_holidays(calendar, published):
    assert holidays_import_ics(calendar, FEED) == 7
    rows = {h.date: (h.name, h.closed_minutes) for h in calendar.holidays.all()}
    assert rows == {
        date(2026, 1, 1): ("New Year's Day", (0, 1440)),
        date(2026, 12, 24): ("Christmas closure", (0, 1440)),
        date(2026, 12, 25): ("Christmas closure", (0, 1440)),
        date(2026, 12, 26): ("Christmas closure", (0, 1440)),  # DTEND is exclusive
        date(2026, 7, 1): ("Summer party", (13 * 60, 17 * 60)),
        date(2026, 7, 2): ("Fire drill", (13 * 60, 14 * 60)),  # 12:00Z is 13:00 BST
        date(2026, 7, 3): ("Building maintenance", (22 * 60, 1440)),  # clipped to the day
    }
    assert len(published) == 1
    assert holidays_import_ics(calendar, FEED) == 0
    assert len(published) == 1


@pytest.mark.parametrize(("data", "message"), [
    (b"\x00\xffnot a calendar at all", "not an iCalendar"),
    (b"", "not an iCalendar"),
    (b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ada\r\nEND:VCARD\r\n", "not an iCalendar"),
    (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "no events"),
    (FEED.replace(b"DTSTART;VALUE=DATE:20260101", b"DTSTART;VALUE=DATE:2026XX"),
     "no valid start"),
    (b"BEGIN:VCALENDAR\r\n" + b"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260101\r\nEND:VEVENT\r\n"
     * 2001 + b"END:VCALENDAR\r\n", "at most 2000"),
])
def test_a_bad_feed_is_refused_and_nothing_is_stored(calendar, published, data, message):
    with pytest.raises(InvalidInput) as error:
        holidays_import_ics(calendar, data)
    assert message in error.value.message
    assert not calendar.holidays.exists()
    assert published == []


# --- Admin pages --------------------------------------------------------------------------


def test_the_calendar_list_shows_each_week_and_holidays_ahead(
        admin_client, calendar, django_assert_max_num_queries):
    Holiday.objects.create(calendar=calendar, date=timezone.localdate() + timedelta(days=30),
                           name="Soon")
    Holiday.objects.create(calendar=calendar, date=timezone.localdate() - timedelta(days=30),
                           name="Past")
    for n in range(5):
        BusinessCalendar.objects.create(name=f"Extra {n}")
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:itsm_businesscalendar_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Mon–Fri 08:30–12:30, 13:30–17:30" in page
    assert "24×7" in page
    assert '<td class="field-holidays_ahead">1</td>' in page


def test_the_change_page_shows_times_as_hh_mm_and_the_tools(admin_client, calendar):
    response = admin_client.get(change_url(calendar))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="08:30"' in page and 'value="17:30"' in page
    assert tool_url(calendar, "holidays_generate") in page
    assert tool_url(calendar, "holidays_import") in page
    assert 'id="try-it"' in page


def test_the_holiday_inline_leaves_out_holidays_older_than_a_year(admin_client, calendar):
    Holiday.objects.create(calendar=calendar, date=timezone.localdate() - timedelta(days=400),
                           name="Long ago")
    Holiday.objects.create(calendar=calendar, date=timezone.localdate() + timedelta(days=10),
                           name="Coming up")
    page = admin_client.get(change_url(calendar)).content.decode()
    assert "Coming up" in page and "Long ago" not in page


def test_saving_intervals_and_holidays_typed_as_hh_mm(admin_client, published):
    data = calendar_form(intervals=[(0, "20:00", "24:00"), (1, "00:00", "04:00"),
                                    (1, "9:00", "12:30")],
                         holidays=[("2026-12-24", "Christmas Eve", "13:00", "")])
    response = admin_client.post(reverse("admin:itsm_businesscalendar_add"), data)
    assert response.status_code == 302, response.context["errors"]
    calendar = BusinessCalendar.objects.get(name="Support hours")
    assert list(calendar.intervals.values_list("weekday", "start_minute", "end_minute")) == [
        (0, 1200, 1440), (1, 0, 240), (1, 540, 750)]
    eve = calendar.holidays.get()
    assert (eve.closed_from_minute, eve.closed_until_minute) == (780, None)
    assert [event.calendar for event in published] == [calendar]
    assert calendar.version == 2


@pytest.mark.parametrize(("intervals", "message"), [
    ([(0, "25:00", "26:00")], "25:00 is not a time of day: use 00:00 to 23:59."),
    ([(0, "08:00", "24:30")], "24:30 is not a time of day: use 00:00 to 24:00."),
    ([(0, "9", "17:00")], "Enter a time as HH:MM, for example 08:30."),
    ([(0, "08:60", "17:00")], "08:60 is not a time of day"),
    ([(0, "17:00", "09:00")], "The end (09:00) must be after the start (17:00)."),
    ([(0, "24:00", "24:00")], "24:00 is not a time of day: use 00:00 to 23:59."),
    ([(0, "08:00", "12:00"), (0, "11:00", "13:00")],
     "Monday: 08:00–12:00 overlaps 11:00–13:00."),
])
def test_bad_intervals_give_form_errors_and_store_nothing(admin_client, published, intervals,
                                                          message):
    data = calendar_form(intervals=intervals)
    response = admin_client.post(reverse("admin:itsm_businesscalendar_add"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not BusinessCalendar.objects.filter(name="Support hours").exists()
    assert published == []


def test_a_holiday_closing_before_it_opens_is_refused(admin_client, calendar, published):
    data = calendar_form(name=calendar.name, existing=calendar,
                         holidays=[("2026-12-24", "Christmas Eve", "13:00", "09:00")])
    response = admin_client.post(change_url(calendar), data)
    assert response.status_code == 200
    assert "Closed until 09:00 must be after closed from 13:00." in response.content.decode()
    assert not calendar.holidays.exists()
    assert published == []


def test_a_date_the_calendar_already_has_is_refused_even_when_not_shown(admin_client, calendar,
                                                                        published):
    old = timezone.localdate() - timedelta(days=400)
    Holiday.objects.create(calendar=calendar, date=old, name="Long ago")
    data = calendar_form(name=calendar.name, existing=calendar,
                         holidays=[(old.isoformat(), "Again", "", "")])
    response = admin_client.post(change_url(calendar), data)
    assert response.status_code == 200
    assert f"The calendar already has a holiday on {old:%Y-%m-%d}" in response.content.decode()
    assert calendar.holidays.get().name == "Long ago"
    assert published == []


def test_one_admin_save_publishes_one_change(admin_client, calendar, published):
    data = calendar_form(name=calendar.name, existing=calendar,
                         intervals=[(5, "10:00", "14:00")],
                         holidays=[("2026-12-24", "Christmas Eve", "13:00", ""),
                                   ("2026-12-25", "Christmas Day", "", "")])
    data["intervals-0-end_minute"] = "13:00"  # and edit an existing row
    response = admin_client.post(change_url(calendar), data)
    assert response.status_code == 302
    assert len(published) == 1
    calendar.refresh_from_db()
    assert calendar.version == 2
    assert calendar.intervals.count() == 11 and calendar.holidays.count() == 2
    assert calendar.intervals.filter(end_minute=13 * 60).exists()


def test_a_save_without_changes_publishes_nothing(admin_client, calendar, published):
    response = admin_client.post(change_url(calendar),
                                 calendar_form(name=calendar.name, existing=calendar))
    assert response.status_code == 302
    assert published == []


def test_the_public_holidays_tool(admin_client, calendar, published):
    url = tool_url(calendar, "holidays_generate")
    page = admin_client.get(url)
    assert page.status_code == 200
    assert f'value="{timezone.localdate().year}"' in page.content.decode()
    response = admin_client.post(url, {"country": "GB", "subdivision": "ENG", "year": 2026},
                                 follow=True)
    assert response.redirect_chain == [(change_url(calendar), 302)]
    assert "9 public holiday(s) added" in response.content.decode()
    assert calendar.holidays.filter(date=date(2026, 12, 28)).exists()
    assert len(published) == 1


def test_the_public_holidays_tool_shows_an_unknown_country_as_a_form_error(
        admin_client, calendar, published):
    response = admin_client.post(tool_url(calendar, "holidays_generate"),
                                 {"country": "XX", "year": 2026})
    assert response.status_code == 200
    assert "No public holidays are known for country" in response.context["form"].errors[
        "country"][0]
    assert not calendar.holidays.exists()


def test_the_ics_tool_imports_a_feed(admin_client, calendar, published):
    upload = SimpleUploadedFile("holidays.ics", FEED, content_type="text/calendar")
    response = admin_client.post(tool_url(calendar, "holidays_import"), {"file": upload},
                                 follow=True)
    assert "7 holiday(s) imported" in response.content.decode()
    assert calendar.holidays.count() == 7
    assert len(published) == 1


@pytest.mark.parametrize(("data", "message"), [
    (b"garbage", "This is not an iCalendar (.ics) file."),
    (b"BEGIN:VCALENDAR\r\n" + b"X-FILLER:" + b"x" * 1_000_100 + b"\r\nEND:VCALENDAR\r\n",
     "The file is larger than 1 MB."),
])
def test_the_ics_tool_shows_a_bad_file_as_a_form_error(admin_client, calendar, published, data,
                                                       message):
    upload = SimpleUploadedFile("holidays.ics", data, content_type="text/calendar")
    response = admin_client.post(tool_url(calendar, "holidays_import"), {"file": upload})
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [message]
    assert not calendar.holidays.exists()
    assert published == []


def test_try_it_works_out_a_due_time_and_elapsed_business_time(admin_client, calendar):
    Holiday.objects.create(calendar=calendar, date=date(2026, 12, 25), name="Christmas Day")
    response = admin_client.get(tool_url(calendar, "try"), {
        "start": "2026-12-24 16:00", "duration": "3:00", "end": "2026-12-29 09:30"})
    assert response.status_code == 200
    page = response.content.decode()
    # 16:00–17:30 on Thursday, closed Friday (Christmas) and the weekend, 08:30–10:00 Monday.
    assert "Mon 2026-12-28 10:00:00 GMT" in page
    assert "Fri 25 Dec Christmas Day" in page
    # 1:30 on Thursday, 8:00 on Monday, 1:00 on Tuesday.
    assert dict(response.context["results"])["business time from start to end"] == "10:30"


def test_try_it_explains_a_time_that_does_not_exist(admin_client, calendar):
    response = admin_client.get(tool_url(calendar, "try"),
                                {"start": "2026-03-29 01:30", "duration": "1:00"})
    assert response.status_code == 200
    assert response.context["form"].errors["start"]


def test_an_admin_group_member_can_use_the_calendar_pages(client, calendar):
    client.force_login(UserFactory(username="ada", is_staff=True, role=Role.ADMIN))
    for url in (reverse("admin:itsm_businesscalendar_changelist"), change_url(calendar),
                tool_url(calendar, "holidays_generate"), tool_url(calendar, "holidays_import"),
                tool_url(calendar, "try"), reverse("admin:itsm_holiday_changelist")):
        assert client.get(url).status_code == 200, url


def test_staff_without_the_permission_cannot_use_the_tools(client, calendar):
    client.force_login(UserFactory(username="stu", is_staff=True))
    for tool in ("holidays_generate", "holidays_import", "try"):
        assert client.get(tool_url(calendar, tool)).status_code == 403
    client.force_login(AgentFactory(username="alice"))  # not staff: sent to the admin login
    assert client.get(tool_url(calendar, "holidays_generate")).status_code == 302


def test_deleting_holidays_from_the_holiday_list_publishes_once_per_calendar(
        admin_client, calendar, published):
    for day in (1, 2, 3):
        Holiday.objects.create(calendar=calendar, date=date(2026, 5, day), name=f"Day {day}")
    response = admin_client.post(reverse("admin:itsm_holiday_changelist"), {
        "action": "delete_selected", "post": "yes",
        "_selected_action": list(calendar.holidays.values_list("pk", flat=True))})
    assert response.status_code == 302
    assert not calendar.holidays.exists()
    assert [event.calendar for event in published] == [calendar]
