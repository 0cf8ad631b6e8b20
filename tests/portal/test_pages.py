"""The portal's pages, for the requester, a stranger, an agent and nobody."""

import re
from datetime import timedelta
from html import unescape

import pytest
import time_machine

from incidents import services
from incidents.choices import HoldReason, Level, State
from incidents.models import Incident
from portal.services import request_reply
from tests.factories import ServiceFactory, UserFactory, make_incident

pytestmark = pytest.mark.django_db


def read(response) -> str:
    """The page's HTML with entities decoded, so the words read as written."""
    return unescape(response.content.decode())


def text(response) -> str:
    """The page's visible text, roughly: tags dropped (attributes may name things freely)."""
    return re.sub(r"<[^>]+>", " ", read(response))


# --- my requests -----------------------------------------------------------------------------

def test_my_requests_lists_only_mine_whatever_the_address_says(portal, request_in, agent,
                                                               stranger):
    mine = request_in(title="Laptop battery swells")
    theirs = make_incident(by=agent, caller=stranger, title="Core router down")
    for query in ("", "?tab=all", f"?number={theirs.number}", "?page=2", "?page=x", "?page=-1",
                  f"?q={theirs.number}", "?tab=bogus"):
        response = portal.get(f"/requests/{query}")
        assert response.status_code == 200, query
        assert f'data-number="{theirs.number}"' not in read(response)
        assert "Core router" not in read(response)
    assert f'data-number="{mine.number}"' in read(portal.get("/requests/"))


def test_each_row_shows_number_title_plain_status_and_age(portal, request_in):
    request_in("in_progress", title="VPN drops")
    waiting = request_in("on_hold", title="Printer jams")
    with time_machine.travel(timedelta(hours=3)):
        page = read(portal.get("/requests/"))
    assert "VPN drops" in page and "We're working on it" in page
    assert "Updated <time" in page and "3 h ago" in page  # the desk's one way with times
    row = page[page.index(f'data-number="{waiting.number}"'):]
    assert 'data-testid="waiting-badge"' in row[:1500]


def test_the_tabs_split_open_from_solved(portal, request_in):
    open_one = request_in("in_progress", title="Open one")
    solved = request_in("resolved", title="Solved one")
    canceled = request_in("canceled", title="Canceled one")
    opened, done, everything = (read(portal.get(f"/requests/?tab={t}"))
                                for t in ("open", "solved", "all"))
    assert open_one.number in opened and solved.number not in opened
    assert solved.number in done and open_one.number not in done
    assert canceled.number not in opened + done and canceled.number in everything
    assert re.search(r'href="\?tab=solved" aria-current="page"', done)
    assert 'role="tablist"' not in done


def test_nobody_with_no_requests_is_invited_to_log_one(portal):
    page = read(portal.get("/requests/"))
    assert "No requests yet" in page
    assert 'href="/requests/new/"' in page and 'href="/articles/"' in page


def test_the_list_costs_the_same_few_queries_for_many_rows(portal, request_in,
                                                          django_assert_max_num_queries):
    for n in range(25):
        request_in(title=f"Request {n}")
    with django_assert_max_num_queries(8):
        response = portal.get("/requests/?tab=all&page=2")
    assert response.status_code == 200 and "Request 0" in read(response)


def test_an_agent_sees_only_what_they_called_in_not_what_they_logged(as_user, agent, team,
                                                                    requester):
    for_someone = make_incident(by=agent, caller=requester, title="Phoned in for Rick")
    own = make_incident(by=agent, title="My own monitor flickers")
    page = read(as_user(agent).get("/requests/"))
    assert own.number in page and for_someone.number not in page
    assert as_user(agent).get(f"/requests/{for_someone.number}/").status_code == 404


def test_nobody_signed_in_is_sent_to_sign_in(client):
    response = client.get("/requests/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- one request -----------------------------------------------------------------------------

@pytest.mark.parametrize("odd", [
    lambda mine: "INC9999999", lambda mine: mine.lower(), lambda mine: "INC12",
    lambda mine: "INC" + "9" * 40, lambda mine: "..%2Fadmin", lambda mine: f"{mine}x",
    lambda mine: f"{mine}%00",
])
def test_an_unknown_or_odd_number_is_a_404(portal, request_in, odd):
    number = odd(request_in().number)
    response = portal.get(f"/requests/{number}/")
    assert response.status_code == (400 if "%00" in number else 404)  # NUL: itsm.middleware
    assert "Traceback" not in read(response)


def test_someone_elses_request_is_a_404_as_if_it_did_not_exist(as_user, request_in, stranger):
    incident = request_in()
    client = as_user(stranger)
    assert client.get(f"/requests/{incident.number}/").status_code == 404
    assert client.post(f"/requests/{incident.number}/reply/",
                       {"body": "hi"}).status_code == 404
    assert client.post(f"/requests/{incident.number}/confirm/").status_code == 404


def test_the_request_page_shows_nothing_internal(portal, request_in, agent, l2_team, manager):
    incident = request_in("in_progress", title="Mail is slow", description="Since Monday.")
    services.incident_comment(incident=incident, by=agent, body="Vendor RMA 5531 opened",
                              internal=True)
    services.incident_comment(incident=incident, by=agent, body="Could you restart Outlook?")
    services.incident_escalate(incident=incident, by=agent, reason="Needs the mail team",
                               team=l2_team)
    services.incident_override_priority(incident=incident, by=manager, priority=1,
                                        reason="CEO affected")
    response = portal.get(f"/requests/{incident.number}/")
    page = read(response)
    assert response.status_code == 200
    assert "Since Monday." in page and "Could you restart Outlook?" in page
    assert "Alice Agent" in page  # the agent's name on their comment is fine
    for internal in ("Vendor RMA", "Needs the mail team", "CEO affected", "Service Desk",
                     "Network L2", "L1", "L2", "tier", "Tier", "mpact", "rgency", "riority",
                     "P1", "SLA", "work note", "Work note", "escalat", "Escalat", "Awaiting"):
        assert internal not in text(response), internal


def test_waiting_for_a_reply_shows_the_question_in_a_banner(portal, request_in, agent):
    incident = request_in("in_progress")
    services.incident_hold(incident=incident, by=agent, reason=HoldReason.AWAITING_CALLER,
                           note="Which floor is the printer on?")
    page = read(portal.get(f"/requests/{incident.number}/"))
    banner = page[page.index('data-testid="waiting-banner"'):]
    assert "Waiting for your reply" in banner[:600]
    assert "Which floor is the printer on?" in banner[:1500]
    assert 'href="#reply-body"' in banner and 'id="reply-body"' in page


def test_a_hold_without_a_note_asks_the_latest_comment_never_the_reason(portal, request_in,
                                                                        agent):
    incident = request_in("in_progress")
    services.incident_comment(incident=incident, by=agent, body="Is it every page or one?")
    services.incident_hold(incident=incident, by=agent, reason=HoldReason.AWAITING_CALLER)
    response = portal.get(f"/requests/{incident.number}/")
    assert "Is it every page or one?" in read(response).split('data-testid="question"')[1][:200]
    assert "Awaiting caller" not in read(response)


def test_the_history_words_each_hold_plainly(portal, request_in, agent, requester):
    incident = request_in("in_progress")
    services.incident_hold(incident=incident, by=agent, reason=HoldReason.AWAITING_CALLER,
                           note="Which floor?")
    request_reply(incident=incident, by=requester, body="The third.")
    services.incident_hold(incident=incident, by=agent, reason=HoldReason.AWAITING_VENDOR)
    page = read(portal.get(f"/requests/{incident.number}/"))
    thread = page[page.index('data-testid="conversation"'):]
    assert re.search(r"We're waiting for your reply.*Which floor\?.*The third\..*"
                     r"We're working on it again.*We're waiting on a supplier", thread, re.S)
    assert 'data-testid="waiting-banner"' not in page
    assert "We're waiting on a supplier." in page.split('data-testid="status-line"')[1][:80]


def test_a_solved_request_asks_did_this_fix_it(portal, request_in):
    incident = request_in("resolved")
    page = read(portal.get(f"/requests/{incident.number}/"))
    assert "Did this fix it?" in page and "Restarted the mail relay." in page
    assert "Yes, close it" in page and "No, it's still broken" in page
    assert 'id="reply-body"' not in page


@pytest.mark.parametrize("state", ["closed", "canceled"])
def test_a_finished_request_has_no_reply_box_but_a_way_to_start_again(portal, request_in,
                                                                      state):
    page = read(portal.get(f"/requests/{request_in(state).number}/"))
    assert 'id="reply-body"' not in page and "Did this fix it?" not in page
    assert "Still a problem?" in page and 'href="/requests/new/"' in page


# --- a new request ---------------------------------------------------------------------------

def test_the_form_asks_in_plain_words(portal):
    page = read(portal.get("/requests/new/"))
    for words in ("What's wrong?", "Tell us more", "How does it affect your work?",
                  "I can't work at all", "Who is affected?", "Many people or the whole site",
                  "Which service?"):
        assert words in page, words
    assert "riority" not in text(portal.get("/requests/new/"))
    assert 'enctype="multipart/form-data"' in page


@pytest.mark.parametrize(("effect", "reach", "impact", "urgency"), [
    ("blocked", "many", Level.HIGH, Level.HIGH),
    ("can_wait", "me", Level.LOW, Level.LOW),
    ("slower", "team", Level.MEDIUM, Level.MEDIUM),
])
def test_logging_a_request_maps_the_answers_and_confirms_with_the_number(
        portal, requester, effect, reach, impact, urgency):
    service = ServiceFactory(name="Printing")
    response = portal.post("/requests/new/", {"title": "Printer jams", "description": "Tray 2",
                                              "effect": effect, "reach": reach,
                                              "service": service.pk}, follow=True)
    incident = Incident.objects.get()
    assert (incident.caller, incident.reported_by, incident.impact, incident.urgency,
            incident.service, incident.state) == (requester, requester, impact, urgency,
                                                  service, State.NEW)
    assert response.redirect_chain == [(f"/requests/{incident.number}/", 302)]
    assert (f"Thanks — we've got it. Your request number is {incident.number}."
            in read(response))
    assert "riority" not in text(response)


@pytest.mark.parametrize(("data", "field"), [
    ({"title": "  ", "effect": "slower", "reach": "me"}, "title"),
    ({"title": "Printer", "effect": "panic", "reach": "me"}, "effect"),
    ({"title": "Printer", "effect": "slower", "reach": "everyone"}, "reach"),
    ({"title": "Printer", "effect": "slower", "reach": "me", "service": "99999999"}, "service"),
    ({"title": "Printer", "effect": "slower", "reach": "me", "service": "1%00"}, "service"),
    ({"title": "Print\x00er", "effect": "slower", "reach": "me"}, "title"),
])
def test_a_bad_answer_is_a_400_with_the_form_kept_and_nothing_logged(portal, data, field):
    response = portal.post("/requests/new/", data)
    assert response.status_code == 400
    assert "is-invalid" in read(response) and "Please check the highlighted answers." in (
        read(response))
    assert not Incident.objects.exists()


def test_an_inactive_service_cannot_be_chosen(portal):
    retired = ServiceFactory(name="Fax", active=False)
    assert "Fax" not in read(portal.get("/requests/new/"))
    response = portal.post("/requests/new/", {"title": "Fax", "effect": "slower", "reach": "me",
                                              "service": retired.pk})
    assert response.status_code == 400 and not Incident.objects.exists()


def test_an_agent_may_log_a_request_for_themselves_here(as_user, agent):
    response = as_user(agent).post("/requests/new/", {"title": "My monitor flickers",
                                                      "effect": "can_wait", "reach": "me"})
    incident = Incident.objects.get()
    assert response["Location"] == f"/requests/{incident.number}/"
    assert incident.caller == agent


def test_requesters_see_their_own_menu(portal):
    page = read(portal.get("/requests/"))
    assert ">My requests</a>" in page and ">New request</a>" in page
    assert ">Help articles</a>" in page and ">Queue</a>" not in page


def test_agents_keep_their_menu(as_user, agent):
    page = read(as_user(agent).get("/requests/"))
    assert ">Queue</a>" in page and ">New incident</a>" in page
    assert not re.search(r'nav-link[^>]*href="/requests/new/"', page)


def test_a_new_user_with_no_role_still_gets_plain_pages(as_user):
    nobody = UserFactory(username="newbie")
    assert as_user(nobody).get("/requests/").status_code == 200
