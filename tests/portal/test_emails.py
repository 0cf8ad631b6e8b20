"""The "we need your reply" e-mail: once per hold awaiting the caller, with the link."""

import pytest

from incidents import services
from incidents.choices import HoldReason
from itsm.models import Notification
from portal.subscribers import ask_caller_to_reply

pytestmark = pytest.mark.django_db


def replies_asked():
    return Notification.objects.filter(key__startswith="portal-reply:")


def capture_hold(incident, agent, **params):
    """Hold the incident, keeping the event the subscribers saw."""
    from incidents import events
    from itsm.events import subscribed

    seen = []
    with subscribed(events.Transitioned, seen.append):
        services.incident_hold(incident=incident, by=agent, **params)
    return seen[-1]


def test_a_hold_awaiting_the_caller_mails_them_the_question_and_link(request_in, agent,
                                                                    requester, settings):
    settings.SITE_URL = "https://desk.example.com/"
    incident = request_in("in_progress", title="Printer jams")
    services.incident_hold(incident=incident, by=agent, reason=HoldReason.AWAITING_CALLER,
                           note="Which floor is it on?")
    [mail] = replies_asked()
    assert (mail.recipient, mail.address, mail.channel) == (requester, requester.email, "email")
    assert mail.subject == f"We need your reply on {incident.number} Printer jams"
    assert "Which floor is it on?" in mail.body
    assert f"https://desk.example.com/requests/{incident.number}/" in mail.body


def test_without_a_note_the_mail_carries_the_latest_question(request_in, agent):
    incident = request_in("in_progress")
    services.incident_comment(incident=incident, by=agent, body="Is it every page?")
    services.incident_hold(incident=incident, by=agent, reason=HoldReason.AWAITING_CALLER)
    [mail] = replies_asked()
    assert "Is it every page?" in mail.body and "Awaiting caller" not in mail.body


def test_the_same_hold_mails_once_and_a_new_hold_again(request_in, agent):
    incident = request_in("in_progress")
    event = capture_hold(incident, agent, reason=HoldReason.AWAITING_CALLER)
    ask_caller_to_reply(event)  # the same event handled twice (a retry): still one message
    assert replies_asked().count() == 1
    incident = services.incident_resume(incident=incident, by=agent)
    services.incident_hold(incident=incident, by=agent, reason=HoldReason.AWAITING_CALLER)
    assert replies_asked().count() == 2


def test_other_holds_mail_nobody(request_in, agent):
    incident = request_in("in_progress")
    services.incident_hold(incident=incident, by=agent, reason=HoldReason.AWAITING_VENDOR)
    assert not replies_asked().exists()
