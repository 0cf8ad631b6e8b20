"""The in-app notification list and the header's unread badge."""

from itsm.models import Notification
from itsm.notifications import notification_queue
from tests.factories import make_incident


def test_the_badge_counts_unread_and_the_list_marks_them_read(as_user, agent, team, requester):
    incident = make_incident(by=agent, caller=requester, assignment_team=team)
    notification_queue(key="k1", recipients=[requester], subject=f"[{incident.number}] Hello",
                       body="First line")
    notification_queue(key="k2", recipients=[requester], subject="General news", body="x")
    client = as_user(requester)
    badge = client.get("/notifications/unread/")
    assert 'data-testid="unread-count">2<' in badge.text
    page = client.get("/notifications/")
    assert page.status_code == 200
    assert f'href="/incidents/{incident.number}/"' in page.text
    assert page.text.count('data-testid="notification"') == 2
    assert not Notification.objects.filter(recipient=requester, read_at=None).exists()
    assert "unread-count" not in client.get("/notifications/unread/").text


def test_the_badge_caps_at_99(as_user, requester):
    for n in range(120):
        notification_queue(key=f"n{n}", recipients=[requester], subject="x", body="y")
    assert ">99+<" in as_user(requester).get("/notifications/unread/").text


def test_each_person_sees_only_their_own(as_user, agent, requester):
    notification_queue(key="mine", recipients=[agent], subject="For the agent", body="y")
    assert "For the agent" not in as_user(requester).get("/notifications/").text


def test_anonymous_is_sent_to_log_in(client):
    assert client.get("/notifications/").status_code == 302
    assert client.get("/notifications/unread/").status_code == 302
