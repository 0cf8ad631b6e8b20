"""The rule each incident action checks, raising the error the user is shown.

Services call these under the row lock, so they are the protection; the action catalogue
(`incidents.actions`) asks the same functions, without raising, which buttons and endpoints to
offer. Order inside a guard matters: "not yours" (403) before "not now" (409) only where the
user could not act even in another state.
"""

from django_fsm import has_transition_perm

from incidents import rules
from itsm.exceptions import Conflict, Forbidden

VERBS = {"acknowledge": "acknowledged", "hold": "put on hold", "resume": "resumed",
         "resolve": "resolved", "close": "closed", "reopen": "reopened", "cancel": "canceled"}


def _agent(user) -> None:
    if not rules.is_agent(user):
        raise Forbidden("Only agents can do this.")


def _worker(incident, user) -> None:
    _agent(user)
    if not rules.can_work(incident, user):
        raise Forbidden(f"You are not a member of {incident.assignment_team}, "
                        f"which owns {incident.number}.")


def _open(incident, doing: str) -> None:
    if not incident.is_open:
        raise Conflict(f"{incident.number} is {incident.get_state_display().lower()}; only open "
                       f"incidents can be {doing} (reopen it first).")


def _transitions_from(incident) -> set[str]:
    """The transitions leaving the incident's state (they have no conditions, so the state
    alone decides; asked once per state, not once per guard and row)."""
    if incident.state not in _FROM_STATE:
        _FROM_STATE[incident.state] = {t.name for t in incident.get_available_state_transitions()}
    return _FROM_STATE[incident.state]


_FROM_STATE: dict[str, set[str]] = {}


def transition(name: str):
    """The guard of one lifecycle transition: its source states (409), then its permission."""

    def guard(incident, user) -> None:
        if name not in _transitions_from(incident):
            raise Conflict(f"{incident.number} is {incident.get_state_display().lower()}: "
                           f"it cannot be {VERBS[name]} now.")
        if user is not None and not has_transition_perm(getattr(incident, name), user):
            raise Forbidden(f"You may not {name} {incident.number}.")

    guard.__name__ = f"can_{name}"
    return guard


# One guard per transition, shared by the services and the catalogue.
TRANSITIONS = {name: transition(name) for name in VERBS}


def edit(incident, user) -> None:
    _worker(incident, user)
    _open(incident, "edited")


def override_priority(incident, user) -> None:
    if not rules.can_override_priority(user):
        raise Forbidden("Only managers can override the priority.")
    _open(incident, "reprioritised")


def assign(incident, user) -> None:
    _worker(incident, user)
    _open(incident, "reassigned")


def assign_to_me(incident, user) -> None:
    _worker(incident, user)
    _open(incident, "taken")
    if incident.assignee_id == user.pk:
        raise Conflict(f"{incident.number} is already assigned to you.")
    if not rules.team_ids(user):
        raise Conflict(f"You are in no team, so you cannot take {incident.number}; assign it "
                       "to someone in a team instead.")


def escalate(incident, user) -> None:
    """Hand it to another team: whoever works it may, to any active team (the form offers the
    service's owner team or the next tier first)."""
    _worker(incident, user)
    _open(incident, "escalated")


def notify_manager(incident, user) -> None:
    _worker(incident, user)
    _open(incident, "escalated to a manager")
    team = incident.assignment_team
    if team is None or team.manager_id is None:
        raise Conflict(f"{team or 'An unassigned incident'} has no manager to notify.")


def comment(incident, user) -> None:
    """A public reply reaches the caller: the caller's side, or whoever works the incident."""
    if rules.can_work_or_is_caller(incident, user):
        return
    if rules.is_agent(user):
        raise Forbidden(f"Only {incident.assignment_team} answers the caller of "
                        f"{incident.number}; add an internal work note instead.")
    raise Forbidden("You cannot comment on this incident.")


def work_note(incident, user) -> None:
    """Any agent may add what they know to any incident (swarming)."""
    if not rules.is_agent(user):
        raise Forbidden("Only agents can write work notes.")
