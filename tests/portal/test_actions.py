"""Replying, confirming the fix and saying it is still broken, from the request page."""

from html import unescape

import pytest

from incidents import services
from incidents.choices import EntryKind, HoldReason, State
from incidents.models import Incident
from itsm.exceptions import Conflict, Forbidden
from portal.services import request_reply

pytestmark = pytest.mark.django_db


def read(response) -> str:
    """The page's HTML with entities decoded, so the words read as written."""
    return unescape(response.content.decode())


def fresh(incident) -> Incident:
    return Incident.objects.get(pk=incident.pk)


def hold(incident, by, reason):
    return services.incident_hold(incident=services.incident_acknowledge(incident=incident,
                                                                         by=by),
                                  by=by, reason=reason)


def test_a_reply_resumes_a_request_waiting_for_it(portal, request_in, agent):
    incident = hold(request_in(), agent, HoldReason.AWAITING_CALLER)
    response = portal.post(f"/requests/{incident.number}/reply/", {"body": "Third floor."})
    assert response.status_code == 302
    incident = fresh(incident)
    assert (incident.state, incident.hold_reason) == (State.IN_PROGRESS, "")
    kinds = list(incident.timeline.values_list("kind", "actor", "body").order_by("-id")[:2])
    assert kinds == [(EntryKind.TRANSITION, None, ""),
                     (EntryKind.COMMENT, incident.caller_id, "Third floor.")]


@pytest.mark.parametrize("reason", [HoldReason.AWAITING_VENDOR, HoldReason.AWAITING_CHANGE])
def test_a_reply_leaves_other_holds_alone(portal, request_in, agent, reason):
    incident = hold(request_in(), agent, reason)
    portal.post(f"/requests/{incident.number}/reply/", {"body": "Any news?"})
    assert (fresh(incident).state, fresh(incident).hold_reason) == (State.ON_HOLD, reason)


def test_a_reply_with_htmx_rerenders_the_request_with_an_empty_box(portal, request_in):
    incident = request_in("in_progress")
    response = portal.post(f"/requests/{incident.number}/reply/", {"body": "Still slow."},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert read(response).lstrip().startswith('<div id="request"')
    assert "Still slow." in read(response) and "Thanks — your reply is with us." in read(response)


def test_an_empty_reply_is_a_400_in_place(portal, request_in):
    incident = request_in()
    response = portal.post(f"/requests/{incident.number}/reply/", {"body": "  "})
    assert response.status_code == 400 and "Write your reply first." in read(response)
    assert not incident.timeline.filter(kind=EntryKind.COMMENT).exists()


def test_a_closed_request_takes_no_reply(request_in, requester, stranger):
    incident = request_in("closed")
    with pytest.raises(Conflict, match="closed"):
        request_reply(incident=incident, by=requester, body="Hello?")
    with pytest.raises(Forbidden):
        request_reply(incident=request_in(), by=stranger, body="Me too")


def test_yes_close_it_closes_the_request_as_the_caller(portal, request_in, requester):
    incident = request_in("resolved")
    response = portal.post(f"/requests/{incident.number}/confirm/",
                           {"version": incident.version}, follow=True)
    assert fresh(incident).state == State.CLOSED
    entry = fresh(incident).timeline.latest("id")
    assert (entry.actor, entry.to_state, entry.body) == (requester, State.CLOSED,
                                                         "Confirmed by the caller")
    assert "we've closed your request" in read(response)
    assert "Closed — thanks for confirming it's fixed" in read(response)


def test_a_second_yes_close_it_says_it_is_closed_already(portal, request_in):
    incident = request_in("resolved")
    url = f"/requests/{incident.number}/confirm/"
    portal.post(url, {"version": incident.version})
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = portal.post(url, {"version": incident.version}, **headers)
        assert response.status_code == 409
        assert "This request is already closed — nothing more to do." in read(response)


def test_confirming_an_answer_that_changed_meanwhile_shows_the_latest(portal, request_in, agent):
    incident = request_in("resolved")
    seen = incident.version
    services.incident_reopen(incident=incident, by=agent, reason="Found more")
    response = portal.post(f"/requests/{incident.number}/confirm/", {"version": seen})
    assert response.status_code == 409 and "we're working on it again" in read(response)
    assert fresh(incident).state == State.IN_PROGRESS


def test_still_broken_needs_a_note(portal, request_in):
    incident = request_in("resolved")
    response = portal.post(f"/requests/{incident.number}/reopen/",
                           {"version": incident.version, "note": " "})
    assert response.status_code == 400
    assert "Tell us briefly what's still wrong." in read(response)
    assert '<details class="portal-reopen" open>' in read(response)
    assert fresh(incident).state == State.RESOLVED


def test_still_broken_reopens_with_the_note(portal, request_in, requester):
    incident = request_in("resolved")
    response = portal.post(f"/requests/{incident.number}/reopen/",
                           {"version": incident.version, "note": "It jams again."},
                           follow=True)
    incident = fresh(incident)
    assert (incident.state, incident.reopen_count) == (State.IN_PROGRESS, 1)
    assert incident.timeline.latest("id").body == "It jams again."
    assert "You told us it's still broken" in read(response)


def test_a_tampered_version_is_a_400_not_an_error_page(portal, request_in):
    incident = request_in("resolved")
    response = portal.post(f"/requests/{incident.number}/confirm/", {"version": "2" * 30})
    assert response.status_code == 400 and "please try again" in read(response)
    assert fresh(incident).state == State.RESOLVED


def test_the_actions_refuse_get(portal, request_in):
    assert portal.get(f"/requests/{request_in().number}/confirm/").status_code == 405
