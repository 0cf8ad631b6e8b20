"""The problem page's actions: every one once, with its label, guard and whether it needs a
form. Buttons are offered from here; the services check the same guards under the row lock."""

from dataclasses import dataclass

from itsm.exceptions import ServiceError
from problems import guards


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    guard: object
    form: bool = False  # asks for input (a note, a number) in a panel


ACTIONS: dict[str, Action] = {a.name: a for a in [
    Action("assess", "Assess", guards.TRANSITIONS["assess"]),
    Action("analyze", "Start root cause analysis", guards.TRANSITIONS["analyze"]),
    Action("start_fix", "Start the fix", guards.TRANSITIONS["start_fix"]),
    Action("resolve", "Resolve", guards.TRANSITIONS["resolve"]),
    Action("close", "Close", guards.TRANSITIONS["close"], form=True),
    Action("reanalyze", "Re-analyze", guards.TRANSITIONS["reanalyze"], form=True),
    Action("accept_risk", "Accept the risk", guards.TRANSITIONS["accept_risk"], form=True),
    Action("mark_duplicate", "Mark duplicate", guards.TRANSITIONS["mark_duplicate"], form=True),
    Action("cancel", "Cancel problem", guards.TRANSITIONS["cancel"], form=True),
    Action("edit", "Save", guards.edit),
    Action("analysis", "Save the analysis", guards.edit),
    Action("whys", "Save the 5 Whys", guards.edit),
    Action("link", "Link", guards.link),
    Action("unlink", "Unlink", guards.unlink),
    Action("resolve_incidents", "Resolve incidents awaiting the fix", guards.resolve_incidents),
    Action("known_error", "Create a known error", guards.work),
    Action("note", "Add note", guards.note),
]}
TRANSITIONS = [name for name in ACTIONS if name in guards.TRANSITIONS]
assert set(TRANSITIONS) == set(guards.TRANSITIONS)


def available(problem, user) -> set[str]:
    """The actions this user may take on the problem now."""
    allowed = set()
    for name, action in ACTIONS.items():
        try:
            action.guard(problem, user)
        except ServiceError:
            continue
        allowed.add(name)
    return allowed
