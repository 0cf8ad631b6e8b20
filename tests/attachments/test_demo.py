import pytest

from attachments.demo import demo_png, seed_attachments
from attachments.models import Attachment
from attachments.types import looks_like
from itsm.choices import Role
from tests.factories import AgentFactory, UserFactory, make_incident

pytestmark = pytest.mark.django_db


def test_the_demo_gets_a_screenshot_and_a_log_once(attachment_dir):
    agent = AgentFactory(username="agent")
    caller = UserFactory(username="requester", role=Role.REQUESTER)
    incident = make_incident(by=agent, caller=caller, state="in_progress")

    assert seed_attachments() is True
    assert seed_attachments() is False

    assert [(a.name, a.content_type, a.internal, a.uploaded_by) for a in
            Attachment.objects.filter(incident=incident)] == [
        ("screenshot.png", "image/png", False, caller),
        ("vpnclient.log", "text/plain", True, agent)]
    assert looks_like("image/png", demo_png())
