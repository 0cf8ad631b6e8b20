"""Tell the caller when the desk needs their reply (registered by `portal.apps`).

One e-mail per hold: the outbox key is the hold's event id, so the same event handled twice
writes one message.
"""

from django.conf import settings
from django.urls import reverse

from incidents import events
from incidents.choices import EntryKind, HoldReason, State
from incidents.models import TimelineEntry
from itsm.events import subscribe
from itsm.notifications import notification_queue
from portal.conversation import unanswered_comment
from portal.status import hold_note


def request_link(incident) -> str:
    """The absolute address of the request's portal page, for messages."""
    return settings.SITE_URL.rstrip("/") + reverse("portal:detail", args=[incident.number])


def _latest_question(incident) -> str:
    """The desk's latest public comment the caller has not answered, when the hold itself
    carries no note."""
    latest = list(TimelineEntry.objects.filter(incident=incident, kind=EntryKind.COMMENT)
                  .order_by("-at", "-id")[:1])
    return unanswered_comment(latest, caller_id=incident.caller_id)


@subscribe(events.Transitioned)
def ask_caller_to_reply(event: events.Transitioned) -> None:
    incident = event.incident
    if event.to_state != State.ON_HOLD or incident.hold_reason != HoldReason.AWAITING_CALLER:
        return
    caller = incident.caller
    if event.by is not None and event.by.pk == caller.pk:
        return
    question = hold_note(event.note) or _latest_question(incident)
    asked = f"Here's what we'd like to know:\n\n{question}\n\n" if question else ""
    notification_queue(
        key=f"portal-reply:{event.id}", recipients=[caller],
        subject=f"We need your reply on {incident.number} {incident.title}",
        body=f"Hello {caller.first_name or caller.username},\n\n"
             f"We need a little more from you to carry on with your request "
             f"{incident.number}, “{incident.title}”.\n\n{asked}"
             f"Reply here: {request_link(incident)}\n\n"
             "We'll pick it up again as soon as you've replied.\n\nThe service desk",
    )
