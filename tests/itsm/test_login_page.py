"""The sign-in page puts the cursor where the person has to type, and ties each message to its
input (WCAG: labelled inputs, errors announced with the field)."""

import re

import pytest

pytestmark = pytest.mark.django_db


def tag(page, field):
    """The <input> tag of `field` (username or password)."""
    match = re.search(rf'<input[^>]*\bid="id_{field}"[^>]*>', page)
    assert match, field
    return match.group(0)


def focused(page):
    return [field for field in ("username", "password") if " autofocus" in tag(page, field)]


def sign_in(client, **data):
    return client.post("/login/", {"username": "", "password": "", **data})


def test_the_cursor_starts_on_the_username(client):
    page = client.get("/login/").text

    assert focused(page) == ["username"]
    assert "aria-describedby" not in tag(page, "username")
    assert "aria-invalid" not in tag(page, "password")


def test_after_a_wrong_password_the_cursor_is_on_the_password(client, agent):
    response = sign_in(client, username="alice", password="wrong")

    assert response.status_code == 200
    page = response.text
    assert focused(page) == ["password"]
    assert 'value="alice"' in tag(page, "username")
    assert 'id="login-error"' in page and 'role="alert"' in page
    assert 'aria-describedby="login-error"' in tag(page, "password")
    assert 'aria-describedby="login-error"' in tag(page, "username")
    assert 'value=' not in tag(page, "password")  # the password is never sent back


def test_a_missing_username_puts_the_cursor_on_it_with_its_message(client):
    page = sign_in(client, password="secret").text

    assert focused(page) == ["username"]
    username = tag(page, "username")
    assert 'aria-invalid="true"' in username
    assert 'aria-describedby="id_username_error"' in username
    assert re.search(r'id="id_username_error">[^<]*required', page)


def test_a_missing_password_puts_the_cursor_on_it_with_its_message(client):
    page = sign_in(client, username="alice").text

    assert focused(page) == ["password"]
    password = tag(page, "password")
    assert 'aria-invalid="true"' in password
    assert 'aria-describedby="id_password_error"' in password
    assert 'id="id_password_error"' in page


def test_both_missing_puts_the_cursor_on_the_first(client):
    page = sign_in(client).text
    assert focused(page) == ["username"]
    assert 'aria-invalid="true"' in tag(page, "password")


def test_every_input_has_a_label_and_no_inline_code(client):
    page = client.get("/login/").text
    for field in ("username", "password"):
        assert f'<label class="form-label" for="id_{field}">' in page
    assert 'style="' not in page
    assert not re.search(r"\son[a-z]+=", page)


def test_signing_in_still_works(client, agent):
    response = sign_in(client, username="alice", password="pw")
    assert response.status_code == 302
    assert response["Location"] == "/incidents/"
