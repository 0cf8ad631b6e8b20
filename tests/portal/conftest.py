import pytest

from tests.factories import make_incident


@pytest.fixture
def request_in(team, agent, requester):
    """`request_in(state)`: a request of `requester`, worked by `agent` of `team`."""
    return lambda state="new", **kw: make_incident(by=agent, caller=requester,
                                                  assignment_team=team, state=state, **kw)


@pytest.fixture
def portal(as_user, requester):
    """The test client, signed in as the requester."""
    return as_user(requester)
