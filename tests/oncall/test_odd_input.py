"""Odd input on every on-call page and form: a clear answer, never a server error."""

from datetime import datetime

import pytest
import time_machine

from oncall.models import ContactMethod, NotificationRule, Override, Page, ShiftSwap
from tests.oncall.conftest import BERLIN

HUGE = str(2**70)
ODD = ["\x00", HUGE, "1.5", "-1", "abc", "", "🙂" * 300]


@pytest.fixture(autouse=True)
def on_tuesday():
    with time_machine.travel(datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN), tick=False):
        yield


@pytest.mark.parametrize("value", ODD)
@pytest.mark.parametrize("url, field", [
    ("/oncall/dry-run/", "policy"), ("/oncall/dry-run/", "team"),
    ("/oncall/dry-run/", "priority"), ("/oncall/dry-run/", "at"),
    ("/oncall/schedules/{schedule}/", "weeks"), ("/oncall/schedules/{schedule}/", "start"),
    ("/oncall/schedules/{schedule}/", "from"),
])
def test_odd_query_values_never_break_a_page(as_user, agent, policy, roster, url, field, value):
    response = as_user(agent).get(url.format(schedule=roster.pk), {field: value})
    assert response.status_code < 500


@pytest.mark.parametrize("value", ODD)
@pytest.mark.parametrize("url, field", [
    ("/oncall/schedules/{schedule}/overrides/", "override-user"),
    ("/oncall/schedules/{schedule}/overrides/", "override-starts_at"),
    ("/oncall/schedules/{schedule}/swaps/", "swap-ends_at"),
    ("/oncall/contact-methods/", "kind"), ("/oncall/contact-methods/", "address"),
    ("/oncall/rules/", "method"), ("/oncall/rules/", "delay_minutes"),
    ("/oncall/incidents/INC0000001/page/", "team"),
])
def test_odd_form_values_change_nothing(as_user, agent, policy, roster, url, field, value):
    response = as_user(agent).post(url.format(schedule=roster.pk), {field: value})
    assert response.status_code < 500
    assert not Override.objects.exists() and not ShiftSwap.objects.exists()
    assert not ContactMethod.objects.exists() and not NotificationRule.objects.exists()
    assert not Page.objects.exists()


@pytest.mark.parametrize("url", [
    f"/oncall/schedules/{HUGE}/", f"/oncall/pages/{HUGE}/acknowledge/",
    f"/oncall/overrides/{HUGE}/delete/", f"/oncall/swaps/{HUGE}/take/",
    f"/oncall/contact-methods/{HUGE}/delete/", f"/oncall/rules/{HUGE}/delete/",
    f"/oncall/schedules/{HUGE}/feed/x.ics", f"/oncall/people/{HUGE}/feed/x.ics",
    "/oncall/ack/%00/", "/oncall/ack/" + "x" * 5000 + "/",
])
def test_odd_addresses_are_not_found(as_user, agent, url):
    client = as_user(agent)
    response = client.post(url) if url.endswith(("/acknowledge/", "/delete/", "/take/")) \
        else client.get(url)
    assert response.status_code in (400, 404)
