"""The desk's error pages: 404 and 403 branded with DEBUG off and on, 500 branded with DEBUG off
(Django's debug page with it on), and JSON under /api/ either way."""

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.template import loader
from django.test import Client
from django.urls import path

from itsm import urls as desk_urls

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("kaboom")


def forbidden(request):
    raise PermissionDenied("Only the night shift may see this.")


# The desk's own routes, plus views that fail on purpose (used with @pytest.mark.urls).
urlpatterns = [path("boom/", boom), path("api/v1/boom/", boom), path("forbidden/", forbidden),
               *desk_urls.urlpatterns]
handler400, handler403 = desk_urls.handler400, desk_urls.handler403
handler404, handler500 = desk_urls.handler404, desk_urls.handler500

@pytest.fixture
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def assert_no_inline_code(page):
    """The Content-Security-Policy refuses inline scripts, styles and handlers."""
    assert 'style="' not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert not re.search(r"\son[a-z]+=", page)


# --- 404 -------------------------------------------------------------------------------------

@pytest.mark.parametrize("debug", [False, True], indirect=True, ids=["debug-off", "debug-on"])
def test_an_unknown_address_gets_the_desks_404_page(as_user, agent, debug):
    response = as_user(agent).get("/no/such/page/")

    assert response.status_code == 404
    page = response.text
    assert "We can’t find that page" in page
    assert "Back to the queue" in page and 'href="/incidents/"' in page
    assert "Search incidents" in page and 'action="/incidents/"' in page
    assert 'data-testid="user-name"' in page  # the desk's layout, signed in
    assert "URLconf" not in page and "technical" not in page.lower()
    assert_no_inline_code(page)


@pytest.mark.parametrize("debug", [False, True], indirect=True, ids=["debug-off", "debug-on"])
def test_a_record_that_is_not_there_gets_the_404_page_with_its_reason(as_user, agent, debug):
    response = as_user(agent).get("/incidents/INC9999999/")

    assert response.status_code == 404
    assert "We can’t find that page" in response.text
    assert "No incident INC9999999 that you can see." in response.text
    assert "Traceback" not in response.text


@pytest.mark.parametrize("debug", [False, True], indirect=True, ids=["debug-off", "debug-on"])
def test_anonymous_visitors_get_the_404_page_too(client, debug):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "We can’t find that page" in response.text
    assert 'data-testid="user-name"' not in response.text


def test_an_htmx_request_gets_the_card_alone_to_swap_in(as_user, agent):
    response = as_user(agent).get("/incidents/INC9999999/", HTTP_HX_REQUEST="true")

    assert response.status_code == 404
    assert "We can’t find that page" in response.text
    assert "<html" not in response.text and "<nav" not in response.text


def test_with_debug_on_a_missing_slash_still_redirects(as_user, agent, settings):
    settings.DEBUG = True
    response = as_user(agent).get("/incidents")
    assert response.status_code == 301
    assert response["Location"] == "/incidents/"


# --- 403 -------------------------------------------------------------------------------------

@pytest.mark.parametrize("debug", [False, True], indirect=True, ids=["debug-off", "debug-on"])
def test_a_refusal_gets_the_desks_403_page_with_its_reason(as_user, requester, debug):
    response = as_user(requester).get("/oncall/")

    assert response.status_code == 403
    page = response.text
    assert "You don’t have access to this page" in page
    assert "On-call rosters are for agents and managers." in page
    assert "Back to the queue" in page and 'href="/incidents/"' in page
    assert "403 Forbidden" not in page  # Django's plain page
    assert_no_inline_code(page)


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("debug", [False, True], indirect=True, ids=["debug-off", "debug-on"])
def test_a_refusal_without_a_sign_in_offers_one(client, debug):
    response = client.get("/forbidden/")
    assert response.status_code == 403
    assert "Only the night shift may see this." in response.text
    assert 'href="/login/"' in response.text


# --- the API answers JSON ---------------------------------------------------------------------

@pytest.mark.parametrize("debug", [False, True], indirect=True, ids=["debug-off", "debug-on"])
@pytest.mark.parametrize("address", ["/api/v1/incidents/INC9999999/", "/api/v1/no-such-thing/",
                                     "/api/nothing/"])
def test_the_api_answers_a_404_as_json(api, agent, debug, address):
    response = api(agent).get(address)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["message"]


@pytest.mark.parametrize("debug", [False, True], indirect=True, ids=["debug-off", "debug-on"])
def test_the_api_answers_a_403_as_json(api, requester, stranger, debug):
    response = api(requester).post("/api/v1/incidents/", {"title": "Printer jams",
                                                          "caller": stranger.pk}, format="json")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["message"]


# --- 500 -------------------------------------------------------------------------------------

@pytest.mark.urls(__name__)
def test_a_server_error_gets_the_desks_500_page(agent, settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(agent)

    response = client.get("/boom/")

    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert "Back to the queue" in page and 'href="/incidents/"' in page
    assert 'href="/static/css/desk.css"' in page
    assert "kaboom" not in page and "Traceback" not in page
    assert_no_inline_code(page)


@pytest.mark.urls(__name__)
def test_with_debug_on_a_server_error_keeps_djangos_traceback(settings):
    settings.DEBUG = True
    response = Client(raise_request_exception=False).get("/boom/")

    assert response.status_code == 500
    assert "kaboom" in response.content.decode()
    assert "Something went wrong on our side" not in response.content.decode()


@pytest.mark.urls(__name__)
def test_the_api_answers_a_server_error_as_json(settings):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/api/v1/boom/")
    assert response.status_code == 500
    assert response.json()["message"] == "Server error; it has been logged."


def test_the_500_page_renders_without_a_request_or_context():
    page = loader.get_template("500.html").render()
    assert page.lstrip().startswith("<!doctype html>")
    assert "Something went wrong on our side" in page
    assert "{%" not in page and "{{" not in page
