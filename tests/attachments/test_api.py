import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from attachments import services
from attachments.models import Attachment
from itsm.services import user_create_api_token
from tests.attachments.helpers import PNG, log_file, stored, upload

pytestmark = pytest.mark.django_db


def _files_url(incident) -> str:
    return reverse("api:incident-attachments", args=[incident.number])


@pytest.fixture
def posted(incident, agent):
    """A public screenshot and an internal log on the incident."""
    public = services.attach(incident=incident, by=agent, files=[upload()], internal=False)
    internal = services.attach(incident=incident, by=agent, files=[log_file()], internal=True)
    return public[0], internal[0]


def test_agents_list_every_file_of_an_incident(api, agent, incident, posted):
    response = api(agent).get(_files_url(incident))

    assert response.status_code == 200
    assert [(f["name"], f["internal"]) for f in response.json()] == [
        ("screenshot.png", False), ("app.log", True)]
    first = response.json()[0]
    assert {"id", "incident", "entry", "size", "content_type", "uploaded_by", "created_at",
            "download_url"} <= set(first)
    assert first["download_url"].endswith(f"/api/v1/attachments/{posted[0].pk}/download/")


def test_the_caller_lists_only_the_public_files(api, requester, incident, posted):
    assert [f["name"] for f in api(requester).get(_files_url(incident)).json()] == [
        "screenshot.png"]


def test_posting_files_adds_a_comment_with_them(api, requester, incident):
    response = api(requester).post(_files_url(incident), {
        "files": [upload(), log_file()], "body": "Both from this morning"}, format="multipart")

    assert response.status_code == 201
    assert [f["name"] for f in response.json()] == ["screenshot.png", "app.log"]
    entry = incident.timeline.get(pk=response.json()[0]["entry"])
    assert (entry.kind, entry.body) == ("comment", "Both from this morning")


def test_an_internal_post_is_a_work_note(api, other_agent, incident):
    response = api(other_agent).post(_files_url(incident), {
        "files": [log_file()], "internal": "true"}, format="multipart")

    assert response.status_code == 201
    assert response.json()[0]["internal"] is True
    assert incident.timeline.get(pk=response.json()[0]["entry"]).body == "Attached app.log"


def test_a_refused_file_answers_the_error_body_and_stores_nothing(api, agent, incident,
                                                                  attachment_dir):
    response = api(agent).post(_files_url(incident), {
        "files": [upload(), upload("fake.png", b"not an image")]}, format="multipart")

    assert response.status_code == 400
    assert response.json() == {"message": "fake.png is not really a PNG image.",
                               "field_errors": {"files": ["fake.png is not really a PNG image."]}}
    assert Attachment.objects.count() == 0
    assert stored(attachment_dir) == []


@pytest.mark.parametrize("data", [{"body": "nothing"}, {"files": "not a file"}])
def test_a_post_without_files_names_the_field(api, agent, incident, data):
    response = api(agent).post(_files_url(incident), data, format="multipart")
    assert response.status_code == 400
    (problem,) = response.json()["field_errors"]["files"]
    assert isinstance(problem, str)


def test_json_cannot_carry_files(api, agent, incident):
    response = api(agent).post(_files_url(incident), {"files": []}, format="json")
    assert response.status_code == 415
    assert "message" in response.json()


def test_who_may_not_post_is_told(api, requester, stranger, incident):
    internal = api(requester).post(_files_url(incident), {
        "files": [upload()], "internal": "true"}, format="multipart")
    foreign = api(stranger).post(_files_url(incident), {"files": [upload()]},
                                 format="multipart")

    assert internal.status_code == 403
    assert foreign.status_code == 404  # someone else's incident: not even there
    assert Attachment.objects.count() == 0


def test_a_token_reads_metadata_and_downloads_the_file(agent, posted):
    _, key = user_create_api_token(user=agent)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    screenshot = posted[0]

    meta = client.get(reverse("api:attachment-detail", args=[screenshot.pk]))
    file = client.get(meta.json()["download_url"], HTTP_ACCEPT="image/png")

    assert (meta.status_code, meta.json()["incident"]) == (200, screenshot.incident.number)
    assert file.status_code == 200
    assert file["Content-Type"] == "image/png"
    assert file["Content-Disposition"] == 'attachment; filename="screenshot.png"'
    assert file["X-Content-Type-Options"] == "nosniff"
    assert b"".join(file.streaming_content) == PNG
    file.close()


def test_files_of_other_peoples_incidents_and_internal_ones_are_404(api, requester, stranger,
                                                                    posted):
    public, internal = posted
    for user, attachment in ((stranger, public), (requester, internal)):
        for name in ("api:attachment-detail", "api:attachment-download"):
            response = api(user).get(reverse(name, args=[attachment.pk]))
            assert response.status_code == 404
            assert response.json()["message"]


def test_anonymous_api_calls_are_refused(api, incident, posted):
    assert api().get(_files_url(incident)).status_code == 401
    assert api().get(reverse("api:attachment-download", args=[posted[0].pk])).status_code == 401


def test_the_uploader_removes_a_file_and_another_team_may_not(api, agent, other_agent, posted):
    url = reverse("api:attachment-detail", args=[posted[0].pk])

    assert api(other_agent).delete(url).status_code == 403
    assert api(agent).delete(url).status_code == 204
    assert api(agent).get(url).status_code == 404


def test_the_timeline_lists_each_entrys_files(api, agent, requester, incident,
                                               django_assert_max_num_queries):
    from attachments.services import comment_with_files

    comment_with_files(incident=incident, by=agent, body="Log attached.", internal=True,
                       files=[log_file()])
    comment_with_files(incident=incident, by=requester, body="My screen.", internal=False,
                       files=[upload()])
    url = f"/api/v1/incidents/{incident.number}/timeline/"
    with django_assert_max_num_queries(8):  # the files of every entry in one query
        entries = api(agent).get(url).json()
    files = [f["name"] for e in entries for f in e["attachments"]]
    assert files == ["app.log", "screenshot.png"]
    theirs = api(requester).get(url).json()  # the caller: no work note, so no log
    assert [f["name"] for e in theirs for f in e["attachments"]] == ["screenshot.png"]
