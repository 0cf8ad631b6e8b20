"""Files in the portal: a screenshot with a new request or a reply, shown in the conversation;
a bad file refuses the whole request and stores nothing."""

import pytest
from django.urls import reverse

from attachments.models import Attachment
from incidents.models import Incident
from tests.attachments.conftest import attachment_dir  # noqa: F401 (autouse here too)
from tests.attachments.helpers import log_file, stored, upload

pytestmark = pytest.mark.django_db

NEW = {"title": "Printer jams", "description": "", "effect": "slower", "reach": "me"}


def test_a_new_request_takes_a_screenshot(portal, requester, attachment_dir):  # noqa: F811
    response = portal.post(reverse("portal:new"), {**NEW, "files": [upload()]})
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.attachments.get().name == "screenshot.png"
    page = portal.get(reverse("portal:detail", args=[incident.number])).content.decode()
    assert "screenshot.png" in page
    assert stored(attachment_dir)


def test_a_bad_file_refuses_the_whole_request(portal, attachment_dir):  # noqa: F811
    fake = upload("photo.png", b"not a png at all", "image/png")
    response = portal.post(reverse("portal:new"), {**NEW, "files": [fake]})
    assert response.status_code == 400
    assert not Incident.objects.exists()
    assert not Attachment.objects.exists() and not stored(attachment_dir)


def test_a_reply_can_be_just_a_file(portal, request_in, attachment_dir):  # noqa: F811
    incident = request_in("in_progress")
    response = portal.post(reverse("portal:reply", args=[incident.number]),
                           {"body": "", "files": [log_file()]})
    assert response.status_code == 302
    entry = incident.timeline.filter(kind="comment").last()
    assert entry.body == "Attached app.log" and entry.attachments.get().name == "app.log"
    page = portal.get(reverse("portal:detail", args=[incident.number])).content.decode()
    assert "app.log" in page


def test_an_empty_reply_without_files_is_refused(portal, request_in):
    incident = request_in("in_progress")
    response = portal.post(reverse("portal:reply", args=[incident.number]), {"body": ""})
    assert response.status_code == 400
    assert not incident.timeline.filter(kind="comment").exists()
