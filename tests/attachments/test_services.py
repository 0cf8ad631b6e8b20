import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from attachments import selectors, services
from attachments.models import Attachment
from incidents.choices import EntryKind
from itsm.exceptions import Forbidden, InvalidInput
from tests.attachments.helpers import PNG, log_file, stored, upload

pytestmark = pytest.mark.django_db


def _refused(incident, by, files, internal=False) -> str:
    with pytest.raises(InvalidInput) as caught:
        services.attach(incident=incident, by=by, files=files, internal=internal)
    assert list(caught.value.field_errors) == ["files"]
    return caught.value.message


def test_a_file_is_stored_through_the_storage_in_the_configured_dir(incident, agent,
                                                                    attachment_dir):
    (attachment,) = services.attach(incident=incident, by=agent, files=[upload()],
                                    internal=False)

    expected = f"incidents/{incident.number}/{attachment.pk}/screenshot.png"
    assert attachment.file.name == expected
    assert stored(attachment_dir) == [expected]
    assert (attachment_dir / expected).read_bytes() == PNG
    assert (attachment.name, attachment.size, attachment.uploaded_by) == (
        "screenshot.png", len(PNG), agent)


def test_the_type_comes_from_the_extension_never_from_the_client(incident, agent):
    (attachment,) = services.attach(incident=incident, by=agent, internal=False,
                                    files=[log_file(content_type="text/html")])
    assert attachment.content_type == "text/plain"
    assert not attachment.previewable


def test_a_file_over_the_limit_is_refused_with_its_size(incident, agent, attachment_dir):
    big = upload(content=PNG + b"\0" * (12_897_485 - len(PNG)))

    assert _refused(incident, agent, [big]) == "screenshot.png is 12.3 MB; the limit is 10 MB."
    assert stored(attachment_dir) == []


def test_an_empty_file_is_refused(incident, agent):
    assert _refused(incident, agent, [log_file(content=b"")]) == "app.log is empty."


@pytest.mark.parametrize("name", ["drawing.svg", "page.html", "README"])
def test_a_type_not_on_the_list_is_refused(incident, agent, name):
    assert _refused(incident, agent, [upload(name, b"<svg onload=alert(1)>")]).startswith(
        f"{name}: this type of file cannot be attached")


@pytest.mark.parametrize(("name", "content"), [
    ("screenshot.png", b"just some text, not a picture"),
    ("photo.jpg", PNG),
    ("report.pdf", b"MZ\x90\x00 an executable"),
])
def test_a_file_whose_content_does_not_match_its_extension_is_refused(incident, agent, name,
                                                                      content):
    assert "is not really a" in _refused(incident, agent, [upload(name, content)])


@pytest.mark.parametrize(("raw", "clean"), [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("C:\\x\\a.txt", "a.txt"),
    ("evil\x00name.txt", "evilname.txt"),
    ("  notes\u202etxt.log ", "notestxt.log"),
])
def test_only_the_base_name_is_kept_without_control_characters(incident, agent, raw, clean,
                                                               attachment_dir):
    (attachment,) = services.attach(incident=incident, by=agent, internal=False,
                                    files=[ContentFile(b"hello\n", name=raw)])
    assert attachment.name == clean
    assert stored(attachment_dir) == [f"incidents/{incident.number}/{attachment.pk}/{clean}"]


@pytest.mark.parametrize("raw", ["..", "\x00", "dir/", " . "])
def test_a_name_with_nothing_usable_left_is_refused(incident, agent, raw):
    assert _refused(incident, agent, [ContentFile(b"x", name=raw)]).endswith(
        "is not a usable file name.")


def test_too_many_files_are_refused(incident, agent, settings):
    settings.ATTACHMENT_MAX_FILES = 2
    message = _refused(incident, agent, [log_file(f"{n}.log") for n in range(3)])
    assert message == "Attach at most 2 files at a time (you chose 3)."


def test_one_bad_file_refuses_them_all_and_nothing_is_stored(incident, agent, attachment_dir):
    message = _refused(incident, agent, [upload(), log_file(content=b""),
                                         upload("fake.png", b"text")])

    assert message.startswith("app.log is empty. fake.png is not really a PNG image")
    assert Attachment.objects.count() == 0
    assert stored(attachment_dir) == []


@pytest.fixture
def full_disk(monkeypatch):
    """The storage fails on the second file it is asked to write."""
    real, calls = FileSystemStorage._save, []

    def save(self, name, content):
        calls.append(name)
        if len(calls) == 2:
            raise OSError("No space left on device")
        return real(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", save)


def test_files_stored_before_a_storage_failure_are_deleted(incident, agent, attachment_dir,
                                                           full_disk):
    with pytest.raises(OSError):
        services.attach(incident=incident, by=agent, internal=False,
                        files=[upload(), log_file()])

    assert Attachment.objects.count() == 0
    assert stored(attachment_dir) == []


def test_a_requester_cannot_attach_to_an_internal_note(incident, requester):
    with pytest.raises(Forbidden):
        services.attach(incident=incident, by=requester, files=[upload()], internal=True)


def test_a_stranger_cannot_attach_to_someone_elses_incident(incident, stranger, attachment_dir):
    with pytest.raises(Forbidden):
        services.attach(incident=incident, by=stranger, files=[upload()], internal=False)
    assert stored(attachment_dir) == []


def test_an_agent_of_another_team_attaches_to_work_notes_only(incident, other_agent):
    with pytest.raises(Forbidden):
        services.attach(incident=incident, by=other_agent, files=[upload()], internal=False)
    (attachment,) = services.attach(incident=incident, by=other_agent, files=[upload()],
                                    internal=True)
    assert attachment.internal


def test_files_follow_the_visibility_of_their_entry(incident, agent):
    entry = services.comment_with_files(incident=incident, by=agent, body="Public", files=[],
                                        internal=False)
    with pytest.raises(InvalidInput):
        services.attach(incident=incident, by=agent, files=[upload()], internal=True,
                        entry=entry)


def test_comment_with_files_posts_one_entry_naming_the_files(incident, requester):
    entry = services.comment_with_files(incident=incident, by=requester, body="  ",
                                        files=[upload(), log_file()], internal=False)

    assert (entry.kind, entry.body) == (EntryKind.COMMENT, "Attached screenshot.png, app.log")
    assert [a.name for a in entry.attachment_list] == ["screenshot.png", "app.log"]
    assert set(Attachment.objects.values_list("entry", flat=True)) == {entry.pk}


def test_comment_with_files_writes_nothing_when_a_file_is_refused(incident, agent,
                                                                  attachment_dir):
    before = incident.timeline.count()
    with pytest.raises(InvalidInput):
        services.comment_with_files(incident=incident, by=agent, body="See the log",
                                    files=[log_file(), upload("x.svg", b"<svg/>")],
                                    internal=True)
    assert incident.timeline.count() == before
    assert stored(attachment_dir) == []


def test_comment_with_files_takes_the_comment_back_when_storing_fails(incident, agent,
                                                                      attachment_dir, full_disk):
    before = incident.timeline.count()
    with pytest.raises(OSError):
        services.comment_with_files(incident=incident, by=agent, body="Two files",
                                    files=[upload(), log_file()], internal=False)
    assert incident.timeline.count() == before
    assert Attachment.objects.count() == 0
    assert stored(attachment_dir) == []


def test_the_uploader_or_the_team_removes_an_attachment_and_its_file(
        incident, requester, stranger, other_agent, agent, attachment_dir,
        django_capture_on_commit_callbacks):
    first, second = services.attach(incident=incident, by=requester, internal=False,
                                    files=[upload(), log_file()])
    for outsider in (stranger, other_agent):
        with pytest.raises(Forbidden):
            services.attachment_delete(attachment=first, by=outsider)

    with django_capture_on_commit_callbacks(execute=True):
        services.attachment_delete(attachment=first, by=requester)
        services.attachment_delete(attachment=second, by=agent)

    assert Attachment.objects.count() == 0
    assert stored(attachment_dir) == []


def test_the_timeline_loads_every_entrys_files_in_one_query(incident, agent,
                                                            django_assert_num_queries):
    for n in range(3):
        services.comment_with_files(incident=incident, by=agent, body=f"note {n}",
                                    files=[log_file(f"{n}.log")], internal=bool(n % 2))
    entries = list(incident.timeline.all())

    with django_assert_num_queries(1):
        entries = selectors.attach_to_entries(entries)

    shown = {e.body: [a.name for a in e.attachment_list] for e in entries if e.attachment_list}
    assert shown == {"note 0": ["0.log"], "note 1": ["1.log"], "note 2": ["2.log"]}


def test_requesters_see_only_the_public_files_of_their_own_incidents(incident, agent, requester,
                                                                     stranger):
    services.attach(incident=incident, by=agent, files=[upload()], internal=False)
    services.attach(incident=incident, by=agent, files=[log_file()], internal=True)

    assert [a.name for a in selectors.for_incident(incident, requester)] == ["screenshot.png"]
    assert [a.name for a in selectors.for_incident(incident, agent)] == ["screenshot.png",
                                                                         "app.log"]
    assert not selectors.visible_to(stranger).exists()
