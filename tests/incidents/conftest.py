import pytest

from tests.factories import make_incident


@pytest.fixture
def team_incident(team, agent, requester):
    """Walk an incident of `team` (caller: requester) to any state."""
    return lambda state="new", **kw: make_incident(by=agent, caller=requester,
                                                  assignment_team=team, state=state, **kw)
