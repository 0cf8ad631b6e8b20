"""Production-safe defaults: sign-in throttling, the Content-Security-Policy, a login for the
API schema and docs."""

import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.models import Group

from itsm.choices import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def sign_in(client, username="alice", password="wrong", **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def test_five_failed_sign_ins_pause_the_account_with_a_page_saying_for_how_long(client, agent):
    for _ in range(4):
        response = sign_in(client)
        assert response.status_code == 200  # the form again, with its error
        assert "Please enter a correct username and password" in response.text

    locked = sign_in(client)

    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.text
    assert "Try again in 15 minutes" in locked.text
    # The right password does not get in during the cool-off either.
    assert sign_in(client, password="pw").status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_ends_after_the_cool_off(client, agent):
    for _ in range(5):
        sign_in(client)

    with time_machine.travel(timedelta(minutes=16)):
        response = sign_in(client, password="pw")

    assert response.status_code == 302
    assert client.get("/me/").status_code == 200


def test_the_lock_holds_one_name_on_one_address_only(client, agent, other_agent):
    for _ in range(5):
        sign_in(client, REMOTE_ADDR="192.0.2.7")

    assert sign_in(client, "oscar", "pw", REMOTE_ADDR="192.0.2.7").status_code == 302
    client.logout()
    assert sign_in(client, "alice", "pw", REMOTE_ADDR="198.51.100.4").status_code == 302


def test_a_successful_sign_in_clears_the_failures(client, agent):
    for _ in range(4):
        sign_in(client)
    assert sign_in(client, password="pw").status_code == 302
    client.logout()

    for _ in range(4):
        assert sign_in(client).status_code == 200


def test_the_admin_sign_in_is_throttled_too(client, agent):
    for _ in range(5):
        response = client.post("/admin/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text


def test_admins_see_lockouts_and_lift_one_by_deleting_it(client, agent):
    for _ in range(5):
        sign_in(client)
    admin = UserFactory(username="ada", is_staff=True, role=Role.ADMIN)
    assert Group.objects.get(name=Role.ADMIN).permissions.filter(
        content_type__app_label="axes").exists()
    client.force_login(admin)

    listing = client.get("/admin/axes/accessattempt/")

    assert listing.status_code == 200
    assert "alice" in listing.text
    attempt = AccessAttempt.objects.get(username="alice")
    client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    client.logout()
    assert sign_in(client, password="pw").status_code == 302


def test_pages_get_a_content_security_policy_without_inline_code(as_user, agent):
    response = as_user(agent).get("/incidents/")

    policy = response["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "img-src 'self' data:", "object-src 'none'", "base-uri 'self'",
                      "frame-ancestors 'none'", "form-action 'self'"):
        assert directive in policy
    assert "nonce-" not in policy and "unsafe-inline" not in policy
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.text)  # no inline script
    assert " onclick=" not in response.text and "<style" not in response.text


def test_the_api_docs_inline_script_runs_by_its_nonce(as_user, agent):
    response = as_user(agent).get("/api/docs/")

    assert response.status_code == 200
    nonce = re.search(r"script-src 'self' 'nonce-([^']+)'",
                      response["Content-Security-Policy"]).group(1)
    assert f'<script nonce="{nonce}">' in response.text
    assert f'<style nonce="{nonce}">' in response.text


def test_the_api_docs_send_anonymous_visitors_to_the_login(client):
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/api/docs/"


def test_the_api_schema_needs_a_login(client, requester, as_user):
    response = client.get("/api/schema/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["message"] == "Authentication credentials were not provided."

    assert as_user(requester).get("/api/schema/").status_code == 200


def test_plain_http_is_redirected_to_https_but_not_the_health_probe(client, settings):
    settings.SECURE_SSL_REDIRECT = True  # the production default (tests speak plain HTTP)

    assert client.get("/incidents/")["Location"] == "https://testserver/incidents/"
    assert client.get("/healthz").status_code == 200
