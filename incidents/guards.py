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


def transition(name: str):
    """The guard of one lifecycle transition: its source states (409), then its permission."""

    def guard(incident, user) -> None:
        if name not in {t.name for t in incident.get_available_state_transitions()}:
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


def escalate(incident, user) -> None:
    _worker(incident, user)
    _open(incident, "escalated")
    team = incident.assignment_team
    if team is None or team.next_tier_id is None:
        raise Conflict(f"{team or 'An unassigned incident'} has no next-tier team to escalate to.")


def notify_manager(incident, user) -> None:
    _agent(user)
    _open(incident, "escalated to a manager")
    team = incident.assignment_team
    if team is None or team.manager_id is None:
        raise Conflict(f"{team or 'An unassigned incident'} has no manager to notify.")


def comment(incident, user) -> None:
    if not rules.can_view(incident, user):
        raise Forbidden("You cannot comment on this incident.")


def work_note(incident, user) -> None:
    if not rules.is_agent(user):
        raise Forbidden("Only agents can write work notes.")
