import pytest

from itsm.choices import Role
from problems import services
from tests.factories import UserFactory, make_incident


@pytest.fixture
def problem_manager(db):
    return UserFactory(username="petra", first_name="Petra", last_name="Problem",
                       role=Role.PROBLEM_MANAGER)


@pytest.fixture
def problem(agent, incident, team):
    """A new problem raised by `agent` from `incident`, owned by `team`."""
    return services.problem_create(by=agent, incidents=[incident], assignment_team=team)


@pytest.fixture
def team_incidents(team, agent, requester):
    """`team_incidents(n, state)` → n incidents of `team` walked to `state`."""
    return lambda n, state="new", **kw: [
        make_incident(by=agent, caller=requester, assignment_team=team, state=state, **kw)
        for _ in range(n)]
