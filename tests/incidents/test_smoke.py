import pytest

from incidents.choices import State
from tests.factories import make_incident


@pytest.mark.django_db
def test_an_incident_walks_to_closed(agent, team, requester):
    incident = make_incident(by=agent, caller=requester, assignment_team=team, state="closed")
    assert incident.state == State.CLOSED
    assert incident.number.startswith("INC")
    assert [e.kind for e in incident.timeline.all()][:2] == ["created", "transition"]
