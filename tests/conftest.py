"""The fixed cast every view and endpoint is tested with.

- `agent`: member of `team` (the team that owns `incident`)
- `other_agent`: agent of `other_team`
- `manager`: manager of `team`, in the Manager group
- `requester`: the caller of `incident`
- `stranger`: a requester with nothing to do with it
- anonymous: the plain `client`
"""

import pytest
from rest_framework.test import APIClient

from itsm.choices import Role
from tests.factories import AgentFactory, TeamFactory, UserFactory, make_incident


@pytest.fixture
def agent(db):
    return AgentFactory(username="alice", first_name="Alice", last_name="Agent")


@pytest.fixture
def other_agent(db):
    return AgentFactory(username="oscar", first_name="Oscar", last_name="Other")


@pytest.fixture
def manager(db):
    return UserFactory(username="maria", first_name="Maria", last_name="Manager",
                       role=Role.MANAGER)


@pytest.fixture
def requester(db):
    return UserFactory(username="rick", first_name="Rick", last_name="Requester",
                       role=Role.REQUESTER)


@pytest.fixture
def stranger(db):
    return UserFactory(username="sam", first_name="Sam", last_name="Stranger",
                       role=Role.REQUESTER)


@pytest.fixture
def l2_team(db, manager):
    return TeamFactory(name="Network L2", tier=2, manager=manager)


@pytest.fixture
def team(db, agent, manager, l2_team):
    team = TeamFactory(name="Service Desk", tier=1, manager=manager, next_tier=l2_team,
                       members=[agent])
    return team


@pytest.fixture
def other_team(db, other_agent):
    return TeamFactory(name="Database", tier=2, members=[other_agent])


@pytest.fixture
def incident(team, agent, requester):
    return make_incident(by=agent, caller=requester, assignment_team=team)


def _login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def as_user(client):
    """`as_user(user)` → the Django test client logged in as that user."""
    return lambda user: _login(client, user)


@pytest.fixture
def api():
    """`api(user)` → a DRF client authenticated as that user (None = anonymous)."""

    def make(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    """Calendars and rosters are cached per (id, version), figures in Django's cache; a
    rolled-back test would reuse them all."""
    from django.core.cache import cache

    from itsm import business_time
    from oncall import selectors

    business_time._loaded.clear()
    selectors._cached.clear()
    cache.clear()
