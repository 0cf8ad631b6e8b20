import pytest
from django.template import Context, Template
from django.urls import reverse

from attachments import selectors, services
from attachments.types import human_size
from tests.attachments.helpers import PNG, log_file, upload
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def screenshot(incident, requester):
    (attachment,) = services.attach(incident=incident, by=requester, files=[upload()],
                                    internal=False)
    return attachment


@pytest.fixture
def work_log(incident, agent):
    entry = services.comment_with_files(incident=incident, by=agent, body="Client log",
                                        files=[log_file()], internal=True)
    return entry.attachment_list[0]


def _body(response) -> bytes:
    try:
        return b"".join(response.streaming_content)
    finally:
        response.close()


def test_a_download_carries_the_stored_type_and_is_never_sniffed(as_user, agent, work_log):
    response = as_user(agent).get(work_log.download_url)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"] == 'attachment; filename="app.log"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Security-Policy"] == "default-src 'none'; img-src 'self'; sandbox"
    assert _body(response) == b"08:41 ERROR gateway unreachable\n"


def test_only_images_are_shown_inline(as_user, agent, screenshot, work_log):
    client = as_user(agent)
    image = client.get(screenshot.inline_url)
    log = client.get(work_log.inline_url)

    assert image["Content-Type"] == "image/png"
    assert image["Content-Disposition"] == 'inline; filename="screenshot.png"'
    assert _body(image) == PNG
    assert log["Content-Disposition"].startswith("attachment;")
    _body(log)


def test_anonymous_visitors_are_sent_to_the_login_page(client, screenshot):
    response = client.get(screenshot.download_url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_requester_guessing_the_address_of_another_callers_file_gets_404(
        as_user, stranger, screenshot):
    assert as_user(stranger).get(screenshot.download_url).status_code == 404


def test_a_requester_cannot_get_an_internal_file_of_their_own_incident(as_user, requester,
                                                                       work_log, screenshot):
    client = as_user(requester)
    assert client.get(work_log.download_url).status_code == 404
    _body(client.get(screenshot.download_url))


def test_any_agent_gets_an_internal_file(as_user, other_agent, work_log):
    response = as_user(other_agent).get(work_log.download_url)
    assert response.status_code == 200
    _body(response)


def test_an_unknown_id_is_the_same_404(as_user, agent):
    url = reverse("attachments:download",
                  args=["0b8e7c1e-8d5e-4c1a-9d77-0c8f6d8b2a10", "x.png"])
    assert as_user(agent).get(url).status_code == 404


def test_the_timeline_tag_shows_images_as_previews_and_other_files_as_chips(incident,
                                                                           requester):
    posted = services.comment_with_files(incident=incident, by=requester, body="", internal=False,
                                         files=[upload(), log_file()])
    (entry,) = selectors.attach_to_entries(incident.timeline.filter(pk=posted.pk))
    image, log = entry.attachment_list

    html = Template("{% load attachments %}{% entry_attachments e %}").render(
        Context({"e": entry}))

    assert f'<img class="attachment-preview" src="{image.inline_url}" alt="screenshot.png"' \
        in html
    assert f'<a class="attachment-chip" href="{log.download_url}" download>' in html
    assert f'<span class="attachment-size">{human_size(log.size)}</span>' in html
    assert "style=" not in html


def test_the_picker_is_a_labelled_multiple_file_input(settings):
    html = Template('{% load attachments %}{% attachment_input "comment" %}').render(Context())

    assert '<input class="attachment-input visually-hidden" type="file" id="comment-files" ' \
           'name="files" multiple accept=".png,.jpg,.jpeg,.gif,.webp,.txt,.log' in html
    assert '<label class="attachment-drop" for="comment-files"' in html
    assert "Drop files, paste a screenshot or" in html
    assert ".svg" not in html and "style=" not in html


def test_the_admin_lists_attachments_read_only(client, screenshot):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    listing = client.get(reverse("admin:attachments_attachment_changelist"))
    page = client.get(reverse("admin:attachments_attachment_change", args=[screenshot.pk]))

    assert listing.status_code == page.status_code == 200
    assert screenshot.download_url.encode() in listing.content
    assert client.get(reverse("admin:attachments_attachment_add")).status_code == 403
