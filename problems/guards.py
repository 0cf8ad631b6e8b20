"""The rule each problem action checks, raising the error the user is shown.

Services call these under the problem's row lock; pages and the API ask the same functions
which buttons and endpoints to offer (`problems.actions`).
"""

from django_fsm import has_transition_perm

from incidents.rules import is_agent
from itsm.exceptions import Conflict, Forbidden
from problems import rules
from problems.choices import ProblemState

# States in which the record is finished: nothing but re-analysis (from risk accepted) moves it.
FINISHED = (ProblemState.CLOSED, ProblemState.CANCELED, ProblemState.DUPLICATE)
VERBS = {"assess": "assessed", "analyze": "moved to root cause analysis",
         "start_fix": "moved to fix in progress", "resolve": "resolved", "close": "closed",
         "reanalyze": "re-analysed", "cancel": "canceled", "mark_duplicate": "marked a duplicate",
         "accept_risk": "accepted as a risk"}


def agent(user) -> None:
    if not is_agent(user):
        raise Forbidden("Only agents can do this.")


def manager(user) -> None:
    if not rules.can_manage(user):
        raise Forbidden("Only problem managers can do this.")


def work(problem, user) -> None:
    agent(user)
    if not rules.can_work(problem, user):
        raise Forbidden(f"Only {problem.owner or 'its owner'}, "
                        f"{problem.assignment_team or 'its team'} and problem managers work "
                        f"{problem.number}.")


def not_finished(problem, doing: str) -> None:
    if problem.state in FINISHED:
        raise Conflict(f"{problem.number} is {problem.get_state_display().lower()}; it cannot "
                       f"be {doing}.")


def edit(problem, user) -> None:
    work(problem, user)
    not_finished(problem, "edited")


def link(problem, user) -> None:
    """Any agent may link an incident to a problem that is still being worked."""
    agent(user)
    not_finished(problem, "given incidents")


def unlink(problem, user) -> None:
    work(problem, user)


def resolve_incidents(problem, user) -> None:
    work(problem, user)
    if problem.state not in (ProblemState.FIX_IN_PROGRESS, ProblemState.RESOLVED):
        raise Conflict(f"{problem.number} has no fix yet: its incidents are resolved from it "
                       "once the fix is in progress or resolved.")


def note(problem, user) -> None:
    agent(user)


def transition(name: str):
    """One lifecycle transition: its source states (409), then its permission (403)."""

    def guard(problem, user) -> None:
        if name not in {t.name for t in problem.get_available_state_transitions()}:
            raise Conflict(f"{problem.number} is {problem.get_state_display().lower()}: it "
                           f"cannot be {VERBS[name]} now.")
        agent(user)
        if not has_transition_perm(getattr(problem, name), user):
            who = "problem managers" if name in MANAGER_TRANSITIONS else \
                "its owner, its team and problem managers"
            raise Forbidden(f"Only {who} can do this with {problem.number}.")

    guard.__name__ = f"can_{name}"
    return guard


MANAGER_TRANSITIONS = {"assess", "close", "cancel", "mark_duplicate", "accept_risk"}
TRANSITIONS = {name: transition(name) for name in VERBS}
