"""Choosing one's time zone: the banner offering the browser's zone (POST /me/time-zone/) and
the profile's searchable zone picker."""

import zoneinfo
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from itsm.models import User

pytestmark = pytest.mark.django_db

PROMPT = "/me/time-zone/"
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def zone_of(user):
    user.refresh_from_db()
    return user.time_zone


# --- the banner --------------------------------------------------------------------------------

def test_the_banner_is_offered_to_someone_without_a_zone_and_hidden_until_the_script(
        as_user, agent):
    page = as_user(agent).get("/notifications/").text
    assert 'data-tz-prompt data-current-zone="UTC" data-testid="time-zone-prompt" hidden' in page
    assert "Times are shown in <strong>UTC</strong>." in page
    assert 'src="/static/js/timezone.js"' in page


def test_the_banner_is_not_offered_to_someone_with_a_zone_or_to_anonymous(as_user, agent,
                                                                          client):
    assert "data-tz-prompt" not in client.get("/login/").text
    User.objects.filter(pk=agent.pk).update(time_zone="Europe/Berlin")
    assert "data-tz-prompt" not in as_user(agent).get("/notifications/").text


def test_keep_hides_the_banner_for_the_session_and_stores_nothing(as_user, agent):
    client = as_user(agent)
    response = client.post(PROMPT, {"choice": "keep", "next": "/notifications/?page=2"})
    assert response.status_code == 302 and response["Location"] == "/notifications/?page=2"
    assert zone_of(agent) is None
    assert "data-tz-prompt" not in client.get("/notifications/").text
    fresh = Client()  # a new sign-in asks again
    fresh.force_login(agent)
    assert "data-tz-prompt" in fresh.get("/notifications/").text


def test_keep_by_htmx_swaps_the_banner_away(as_user, agent):
    response = as_user(agent).post(PROMPT, {"choice": "keep"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response.content == b""


def test_use_saves_the_browsers_zone_and_goes_back(as_user, agent):
    client = as_user(agent)
    response = client.post(PROMPT, {"choice": "use", "time_zone": "Europe/Berlin",
                                    "next": "/problems/"})
    assert response.status_code == 302 and response["Location"] == "/problems/"
    assert zone_of(agent) == BERLIN
    page = client.get("/notifications/").text
    assert "Times are now shown in Europe/Berlin" in page and "data-tz-prompt" not in page


def test_use_by_htmx_reloads_the_page_in_the_new_zone(as_user, agent):
    response = as_user(agent).post(PROMPT, {"choice": "use", "time_zone": "Asia/Kolkata"},
                                   HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Refresh"] == "true"
    assert zone_of(agent) == zoneinfo.ZoneInfo("Asia/Kolkata")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "", "europe/berlin",
                                  "Europe/Berl", "localtime", "Europe/Berlin\x00", "x" * 5000,
                                  "Etc/Unknown"])
def test_an_odd_zone_is_a_400_that_says_so_and_nothing_is_stored(as_user, agent, zone):
    response = as_user(agent).post(PROMPT, {"choice": "use", "time_zone": zone})
    assert response.status_code == 400
    assert "is not a time zone this desk knows" in response.text
    assert zone_of(agent) is None


def test_an_odd_zone_by_htmx_is_said_in_the_banner(as_user, agent):
    response = as_user(agent).post(PROMPT, {"choice": "use", "time_zone": "Mars/Olympus"},
                                   HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert response.text.startswith('<div class="desk-tz-prompt" data-tz-prompt role="alert">')
    assert "“Mars/Olympus” is not a time zone this desk knows." in response.text
    assert zone_of(agent) is None


@pytest.mark.parametrize("data", [{}, {"choice": "maybe"}, {"time_zone": "Europe/Berlin"}])
def test_an_unknown_answer_is_a_400(as_user, agent, data):
    response = as_user(agent).post(PROMPT, data)
    assert response.status_code == 400
    assert zone_of(agent) is None


@pytest.mark.parametrize("target", ["https://elsewhere.example/", "//elsewhere.example/x",
                                    "javascript:alert(1)", ""])
def test_it_goes_back_only_within_the_desk(as_user, agent, target):
    response = as_user(agent).post(PROMPT, {"choice": "keep", "next": target})
    assert response["Location"] == "/incidents/"


def test_it_needs_a_sign_in_a_post_and_the_csrf_token(client, agent):
    assert client.post(PROMPT, {"choice": "keep"})["Location"].startswith("/login/")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    assert strict.post(PROMPT, {"choice": "use", "time_zone": "Europe/Berlin"}).status_code \
        == 403
    assert strict.get(PROMPT).status_code == 405
    assert zone_of(agent) is None


# --- the profile's zone picker -----------------------------------------------------------------

def test_the_picker_lists_every_zone_and_says_what_time_it_is_there(as_user, agent):
    User.objects.filter(pk=agent.pk).update(time_zone="Europe/Berlin")
    with time_machine.travel(datetime(2026, 11, 29, 13, 23, tzinfo=UTC), tick=False):
        page = as_user(agent).get("/me/").text
    assert 'list="time-zones"' in page and 'name="time_zone" value="Europe/Berlin"' in page
    assert '<option value="Europe/Berlin" data-offset="60" data-abbr="CET">CET (UTC+01:00)' \
        in page
    assert '<option value="Europe/Istanbul" data-offset="180" data-abbr="UTC+03">UTC+03:00' \
        in page
    assert page.count("<option value=") > 400
    assert "It is now 29 Nov 2026, 14:23 CET in Europe/Berlin." in page


def test_the_picker_says_the_site_zone_for_someone_without_one(as_user, agent):
    page = as_user(agent).get("/me/").text
    assert 'placeholder="Site default (UTC)"' in page
    assert "in the site default zone, UTC." in page


@pytest.mark.parametrize(("typed", "saved"), [
    ("Europe/Berlin", "Europe/Berlin"), ("europe/berlin", "Europe/Berlin"),
    ("berl", "Europe/Berlin"), ("  New York ", "America/New_York"), ("utc", "UTC"),
])
def test_a_zone_can_be_typed_in_part(as_user, agent, typed, saved):
    response = as_user(agent).post("/me/", {"action": "profile", "time_zone": typed})
    assert response.status_code == 302
    assert zone_of(agent) == zoneinfo.ZoneInfo(saved)
    assert f"Times are shown in {saved}." in as_user(agent).get("/me/").text


@pytest.mark.parametrize(("typed", "message"), [
    ("america", "matches"), ("Mars/Olympus", "is not a known time zone"),
    ("localtime", "is not a known time zone"), ("x" * 65, "at most 64 characters"),
    ("Europe/Berlin\x00", "Null characters are not allowed"),
])
def test_an_unknown_or_ambiguous_zone_is_a_form_error(as_user, agent, typed, message):
    response = as_user(agent).post("/me/", {"action": "profile", "time_zone": typed,
                                            "first_name": "Changed"})
    assert response.status_code == 400
    assert message in response.text
    agent.refresh_from_db()
    assert (agent.time_zone, agent.first_name) == (None, "Alice")
