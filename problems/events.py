"""What can happen to a problem or a known error, published by `problems.services` and recorded
by `problems.subscribers` (the problem's timeline, the incidents' timelines, notifications)."""

from dataclasses import dataclass
from typing import Any

from itsm.events import Event


@dataclass(frozen=True, kw_only=True)
class ProblemEvent(Event):
    problem: Any  # problems.models.Problem, as saved by the change


@dataclass(frozen=True, kw_only=True)
class ProblemCreated(ProblemEvent):
    """Logged; `incidents` are the ones it was raised from (linked by `IncidentsLinked`)."""


@dataclass(frozen=True, kw_only=True)
class ProblemFieldChanged(ProblemEvent):
    field: str
    old: Any
    new: Any


@dataclass(frozen=True, kw_only=True)
class ProblemTransitioned(ProblemEvent):
    transition: str
    from_state: str
    to_state: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class WhysChanged(ProblemEvent):
    """The 5 Whys chain was saved: `old` and `new` are lists of (question, answer)."""

    old: list
    new: list


@dataclass(frozen=True, kw_only=True)
class IncidentsLinked(ProblemEvent):
    """Incidents linked to (or, `unlinked`, taken off) the problem; `moved_from` is the problem
    each one left, if any."""

    incidents: list
    unlinked: bool = False
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class LinkedIncidentsResolved(ProblemEvent):
    """The fix landed: these linked incidents were resolved from the problem in one action."""

    incidents: list
    refused: dict  # incident number → why it was not resolved


@dataclass(frozen=True, kw_only=True)
class ProblemNoted(ProblemEvent):
    body: str


@dataclass(frozen=True, kw_only=True)
class KnownErrorRaised(ProblemEvent):
    """A known error was recorded from the problem."""

    known_error: Any


@dataclass(frozen=True, kw_only=True)
class WorkaroundApplied(Event):
    """An agent applied a known error's workaround to an incident."""

    known_error: Any
    incident: Any


@dataclass(frozen=True, kw_only=True)
class ProblemsSuggested(Event):
    """Recurrence detection found new clusters (suggestions) or grew open ones."""

    suggestions: list
