"""The portal's reads: a person's own requests, and what of them they may read."""

from django.db.models import Q, QuerySet

from incidents import rules
from incidents.choices import OPEN_STATES, PUBLIC_KINDS, State
from incidents.models import Incident, TimelineEntry
from incidents.selectors import timeline_for

# The list's tabs: the states each shows (None: every state).
TABS = {
    "open": OPEN_STATES,
    "solved": (State.RESOLVED, State.CLOSED),
    "all": None,
}
DEFAULT_TAB = "open"


def requests_of(user) -> QuerySet[Incident]:
    """The requests that are the user's own: those they are the caller of, or reported.

    An agent using the portal sees only those they are the caller of: the incidents they
    logged for other people are worked in the queue, not followed here.
    """
    own = Q(caller=user.pk)
    if not rules.is_agent(user):
        own |= Q(reported_by=user.pk)
    return Incident.objects.filter(own)


def request_list(user, *, tab: str) -> QuerySet[Incident]:
    """The user's requests in one tab, newest activity first, with only what a row shows."""
    qs = requests_of(user)
    states = TABS.get(tab, TABS[DEFAULT_TAB])
    if states is not None:
        qs = qs.filter(state__in=states)
    return (qs.only("number", "title", "state", "hold_reason", "updated_at", "opened_at")
            .order_by("-updated_at", "-id"))


def request_detail(user, *, number: str) -> Incident:
    """One of the user's own requests by number (Incident.DoesNotExist otherwise)."""
    return (requests_of(user).select_related("caller", "reported_by", "service")
            .get(number=number))


def request_timeline(incident: Incident, user) -> list[TimelineEntry]:
    """The public entries only, oldest first: also for an agent reading their own request here."""
    return list(timeline_for(incident=incident, user=user).filter(kind__in=PUBLIC_KINDS))
