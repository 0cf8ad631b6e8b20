"""Everyone edits their own profile: display time zone, contact details and API token."""

from datetime import UTC, datetime

import pytest
from rest_framework.authtoken.models import Token

from incidents.models import Incident

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_login(client):
    assert client.get("/me/")["Location"].startswith("/login/")


def test_times_are_shown_in_the_viewers_time_zone(as_user, agent, incident):
    Incident.objects.filter(pk=incident.pk).update(
        opened_at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    client = as_user(agent)
    response = client.post("/me/", {"action": "profile", "time_zone": "Europe/Berlin",
                                     "email": "alice@example.com"})
    assert response.status_code == 302
    page = client.get(f"/incidents/{incident.number}/").text
    assert "2026-07-01 14:00 CEST" in page  # UTC 12:00 in Berlin's summer time


def test_an_unknown_time_zone_is_refused_and_nothing_changes(as_user, agent):
    response = as_user(agent).post("/me/", {"action": "profile", "time_zone": "Mars/Olympus",
                                            "first_name": "Changed"})
    assert response.status_code == 400
    agent.refresh_from_db()
    assert (agent.time_zone, agent.first_name) == ("", "Alice")


def test_a_new_api_token_replaces_the_old_one(as_user, api, requester):
    client = as_user(requester)
    client.post("/me/", {"action": "token"})
    first = Token.objects.get(user=requester).key
    client.post("/me/", {"action": "token"})
    second = Token.objects.get(user=requester).key
    assert first != second
    assert second in client.get("/me/").text
    from rest_framework.test import APIClient

    old = APIClient(HTTP_AUTHORIZATION=f"Token {first}")
    new = APIClient(HTTP_AUTHORIZATION=f"Token {second}")
    assert old.get("/api/v1/incidents/").status_code == 401
    assert new.get("/api/v1/incidents/").status_code == 200
