"""The agent workspace's own writes: one action on many incidents (the queue's bulk bar) and
saved queue filters.

Bulk actions call the incident services one incident at a time, so each keeps its own rules,
row lock, timeline line and notifications.
"""

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from django.db import transaction

from incidents.models import Incident, SavedFilter
from incidents.selectors import incidents_visible_to
from incidents.services import (
    incident_assign,
    incident_assign_to_me,
    incident_hold,
    incident_resolve,
)
from itsm.exceptions import Conflict, Forbidden, InvalidInput
from itsm.models import User

# --- many at once (the queue's bulk bar) -----------------------------------------------------

# Each bulk action and the inputs its service takes (the rest of what a form sends is ignored).
BULK_INPUTS = {"assign": ("team", "assignee"), "assign_to_me": (), "hold": ("reason", "note"),
               "resolve": ("code", "notes")}
BULK_ACTIONS = tuple(BULK_INPUTS)
BULK_LIMIT = 100


@dataclass
class BulkResult:
    done: list[Incident] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (number, why)


def incidents_bulk(*, by: User, action: str, numbers: list[str], **given) -> BulkResult:
    """Run one action on many incidents through its own service: each incident in its own
    transaction, so one refusal (someone else's team, a state that does not allow it) stops
    nothing else. The refusals come back with their reasons."""
    if action not in BULK_ACTIONS:
        raise InvalidInput.field("action", "Choose assign, assign to me, hold or resolve.")
    numbers = list(dict.fromkeys(n.strip().upper() for n in numbers if n and n.strip()))
    if not numbers:
        raise InvalidInput.field("incidents", "Select at least one incident.")
    if len(numbers) > BULK_LIMIT:
        raise InvalidInput.field("incidents", f"Select at most {BULK_LIMIT} incidents at once.")
    params = {name: given.get(name) for name in BULK_INPUTS[action]}
    service = {"assign": incident_assign, "assign_to_me": incident_assign_to_me,
               "hold": incident_hold, "resolve": incident_resolve}[action]
    found = {i.number: i for i in incidents_visible_to(by).filter(number__in=numbers)}
    result = BulkResult()
    for number in numbers:
        incident = found.get(number)
        if incident is None:
            result.refused.append((number, "No such incident that you can see."))
            continue
        try:
            result.done.append(service(incident=incident, by=by, **params))
        except InvalidInput as exc:
            if not exc.field_errors:
                result.refused.append((number, exc.message))
                continue
            raise  # the input itself is wrong: the same for every incident
        except (Conflict, Forbidden) as exc:
            result.refused.append((number, exc.message))
    return result


# --- saved filters ---------------------------------------------------------------------------

SAVED_FILTER_LIMIT = 20
_NOT_SAVED = {"page", "csrfmiddlewaretoken", "name"}


def saved_filter_create(*, by: User, name: str, query: str) -> SavedFilter:
    """Name the queue's current filter; it appears as a tab beside the views."""
    name = " ".join((name or "").split())[:40]
    if not name:
        raise InvalidInput.field("name", "Give the filter a name.")
    pairs = [(k, v) for k, v in parse_qsl(query or "", keep_blank_values=False)
             if k not in _NOT_SAVED and "\x00" not in k + v]
    if not pairs:
        raise InvalidInput.field("name", "Choose a view or a filter first; there is nothing "
                                         "to save.")
    query = urlencode(pairs)
    if len(query) > 1000:
        raise InvalidInput.field("name", "This filter is too long to save.")
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=by.pk).first()  # one save at a time
        mine = SavedFilter.objects.filter(owner=by)
        if mine.filter(name__iexact=name).exists():
            raise InvalidInput.field("name", f"You already have a filter named “{name}”.")
        if mine.count() >= SAVED_FILTER_LIMIT:
            raise InvalidInput.field("name", f"You can keep {SAVED_FILTER_LIMIT} filters; "
                                             "delete one first.")
        return SavedFilter.objects.create(owner=by, name=name, query=query)


@transaction.atomic
def saved_filter_delete(*, by: User, saved_filter: SavedFilter) -> None:
    if saved_filter.owner_id != by.pk:
        raise Forbidden("This is someone else's filter.")
    saved_filter.delete()
