"""Everyone edits their own profile: display time zone, contact details and API token."""

import re
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from rest_framework.test import APIClient

from incidents.models import Incident
from itsm.models import ApiToken, User

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
    assert "1 Jul 2026, 14:00 CEST" in page  # UTC 12:00 in Berlin's summer time
    agent.refresh_from_db()
    assert agent.time_zone == zoneinfo.ZoneInfo("Europe/Berlin")
    assert 'name="time_zone" value="Europe/Berlin"' in client.get("/me/").text


def test_the_site_default_time_zone_is_stored_empty(as_user, agent):
    User.objects.filter(pk=agent.pk).update(time_zone="Asia/Tokyo")
    response = as_user(agent).post("/me/", {"action": "profile", "time_zone": ""})
    assert response.status_code == 302
    with connection.cursor() as cursor:
        cursor.execute("SELECT time_zone FROM itsm_user WHERE id = %s", [agent.pk])
        assert cursor.fetchone() == ("",)  # as rows written before the time zone field
    agent.refresh_from_db()
    assert agent.time_zone is None


def test_an_unknown_time_zone_is_refused_and_nothing_changes(as_user, agent):
    response = as_user(agent).post("/me/", {"action": "profile", "time_zone": "Mars/Olympus",
                                            "first_name": "Changed"})
    assert response.status_code == 400
    agent.refresh_from_db()
    assert (agent.time_zone, agent.first_name) == (None, "Alice")


def test_the_service_refuses_a_zone_name_that_is_a_path(agent):
    from itsm import services
    from itsm.exceptions import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        services.user_update_profile(user=agent, time_zone="../../etc/passwd")
    assert "time_zone" in refused.value.field_errors


def create_token(client) -> tuple[str, str]:
    """Press "Create/Replace token"; returns the key the page shows and the page."""
    response = client.post("/me/", {"action": "token"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = re.search(r'data-testid="api-token">(\w+)<', response.text).group(1)
    return key, response.text


def test_a_new_api_token_is_shown_once_and_never_again(as_user, requester):
    client = as_user(requester)
    key, page = create_token(client)

    assert "Copy it now" in page
    later = client.get("/me/").text
    assert key not in later
    assert f"Token <code>{key[:8]}…</code> created" in later
    assert "not used yet" in later


def test_the_key_is_kept_only_as_its_hash(as_user, requester):
    key, _ = create_token(as_user(requester))

    token = ApiToken.objects.get(user=requester)
    assert token.key_hash == ApiToken.hash(key) != key
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM itsm_apitoken")
        assert not any(key in str(value) for value in cursor.fetchone())


def test_a_new_api_token_replaces_the_old_one(as_user, requester):
    client = as_user(requester)
    first, _ = create_token(client)
    second, _ = create_token(client)

    assert first != second
    old = APIClient(HTTP_AUTHORIZATION=f"Token {first}")
    new = APIClient(HTTP_AUTHORIZATION=f"Token {second}")
    assert old.get("/api/v1/incidents/").status_code == 401
    assert new.get("/api/v1/incidents/").status_code == 200


def test_the_token_notes_when_it_was_last_used(as_user, requester):
    client = as_user(requester)
    key, _ = create_token(client)
    api = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    used = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)

    with time_machine.travel(used, tick=False):
        assert api.get("/api/v1/incidents/").status_code == 200
    with time_machine.travel(used + timedelta(seconds=40), tick=False):
        api.get("/api/v1/incidents/")  # within the minute: not written again
    assert ApiToken.objects.get().last_used_at == used
    assert f"last used {used.day} {used:%b %Y, %H:%M} UTC" in client.get("/me/").text

    with time_machine.travel(used + timedelta(minutes=2), tick=False):
        api.get("/api/v1/incidents/")
    assert ApiToken.objects.get().last_used_at == used + timedelta(minutes=2)


def test_a_revoked_token_stops_working(as_user, requester):
    client = as_user(requester)
    key, _ = create_token(client)

    response = client.post("/me/", {"action": "revoke-token"}, follow=True)

    assert "API token revoked" in response.text
    assert "No token yet" in response.text
    assert APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/incidents/").status_code \
        == 401


def test_an_inactive_users_token_is_refused(as_user, requester):
    key, _ = create_token(as_user(requester))
    User.objects.filter(pk=requester.pk).update(is_active=False)

    response = APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/incidents/")

    assert response.status_code == 401
    assert ApiToken.objects.get().last_used_at is None


def test_anonymous_api_calls_are_asked_for_a_token(client):
    response = client.get("/api/v1/incidents/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_the_admin_lists_tokens_without_their_key(client, requester):
    client.force_login(requester)
    key, _ = create_token(client)
    admin = User.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)

    listing = client.get("/admin/itsm/apitoken/")

    assert listing.status_code == 200
    assert key[:8] in listing.text and "Rick Requester" in listing.text
    assert key not in listing.text
    assert ApiToken.objects.get().key_hash not in listing.text
    assert client.get("/admin/itsm/apitoken/add/").status_code == 403
    detail = client.get(f"/admin/itsm/apitoken/{ApiToken.objects.get().pk}/change/").text
    assert ApiToken.objects.get().key_hash not in detail
    # DRF's own token page is gone: keys made there would not work.
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 404



def test_the_command_line_prints_a_new_key_once(requester):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("create_api_token", "rick", stdout=out)

    key = out.getvalue().strip()
    assert ApiToken.objects.get(user=requester).key_hash == ApiToken.hash(key)
    assert APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/incidents/").status_code \
        == 200
