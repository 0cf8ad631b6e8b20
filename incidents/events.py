"""What can happen to an incident: one event type per kind of change, published by
`incidents.services` and read by the subscribers (`incidents.subscribers` and others).

Values are the raw ones (state codes, model instances, choice codes); subscribers decide how
to show them.
"""

from dataclasses import dataclass
from typing import Any

from itsm.events import Event


@dataclass(frozen=True, kw_only=True)
class IncidentEvent(Event):
    incident: Any  # incidents.models.Incident, as saved by the change


@dataclass(frozen=True, kw_only=True)
class Created(IncidentEvent):
    """Logged; `chosen_team` tells an owner picked at intake from one found by routing."""

    chosen_team: bool = False


@dataclass(frozen=True, kw_only=True)
class FieldChanged(IncidentEvent):
    """One descriptive field changed from `old` to `new` (instances for foreign keys)."""

    field: str
    old: Any
    new: Any
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class PriorityChanged(FieldChanged):
    """The priority moved: recomputed by the matrix, or overridden (`override` is the reason)."""

    field: str = "priority"
    override: str = ""


@dataclass(frozen=True, kw_only=True)
class Transitioned(IncidentEvent):
    """A lifecycle transition, with the state codes before and after."""

    transition: str
    from_state: str
    to_state: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class FollowUpDue(IncidentEvent):
    """The follow-up time set when the incident was put on hold has come."""

    due: Any


@dataclass(frozen=True, kw_only=True)
class Assigned(IncidentEvent):
    """The owning team and/or assignee changed."""

    old_team: Any
    old_assignee: Any
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Escalated(Assigned):
    """Functional escalation: handed to another team, with a reason (`note`)."""


@dataclass(frozen=True, kw_only=True)
class ManagerNotified(IncidentEvent):
    """Hierarchical escalation: the owning team's manager was alerted."""

    manager: Any
    reason: str


@dataclass(frozen=True, kw_only=True)
class Commented(IncidentEvent):
    """A public comment, or an internal work note (`internal`)."""

    body: str
    internal: bool = False
