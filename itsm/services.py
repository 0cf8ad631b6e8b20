"""Writes to the shared core that have rules: a person's own profile and API token."""

import secrets
import zoneinfo
from datetime import timedelta

from django.db import transaction
from django.db.models import Q

from itsm import clock
from itsm.exceptions import InvalidInput
from itsm.models import ApiToken, Notification, User

PROFILE_FIELDS = ("first_name", "last_name", "email", "phone", "time_zone")
# last_used_at is for people ("is this script still running?"), not an audit trail: writing
# it at most once a minute keeps a busy integration from turning every GET into an UPDATE.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def _zone(value) -> zoneinfo.ZoneInfo | None:
    """A ZoneInfo, a zone name, or empty (None, "") for the site default."""
    if value in (None, ""):
        return None
    if isinstance(value, zoneinfo.ZoneInfo):
        return value
    # Checked against the list, not by ZoneInfo(value), which also opens paths like "../x".
    if value not in zoneinfo.available_timezones():
        raise InvalidInput.field("time_zone", f"{value!r} is not a known time zone.")
    return zoneinfo.ZoneInfo(value)


@transaction.atomic
def user_update_profile(*, user: User, **changes) -> User:
    """Change one's own name, contact details and display time zone (empty = site default)."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise InvalidInput.field(sorted(unknown)[0], "This field cannot be changed here.")
    if "time_zone" in changes:
        changes["time_zone"] = _zone(changes["time_zone"])
    for name, value in changes.items():
        setattr(user, name, value)
    user.save(update_fields=list(changes))
    return user


@transaction.atomic
def user_create_api_token(*, user: User) -> tuple[ApiToken, str]:
    """Give the user a new API key, replacing any old one (which stops working at once).

    Returns the token and the key: the key is stored only as its hash, so this is the one
    moment it can be shown.
    """
    key = secrets.token_hex(20)
    ApiToken.objects.filter(user=user).delete()
    token = ApiToken.objects.create(user=user, key_hash=ApiToken.hash(key), prefix=key[:8])
    return token, key


@transaction.atomic
def user_revoke_api_token(*, user: User) -> bool:
    """Delete the user's API key; False if there was none."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return bool(deleted)


def api_token_authenticate(*, key: str) -> ApiToken | None:
    """The active token whose key this is, with its user; notes when it was last used."""
    token = (ApiToken.objects.select_related("user")
             .filter(key_hash=ApiToken.hash(key)).first())
    if token is None or not token.user.is_active:
        return token
    now = clock.now()
    # Compare-and-set: of concurrent calls within the minute, one writes and none waits.
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOKEN_USE_RESOLUTION),
        pk=token.pk,
    ).update(last_used_at=now)
    return token


def notifications_mark_read(*, user: User) -> int:
    """Mark every unread message of the person read (their list was shown); returns how many."""
    now = clock.now()  # a rung held back for later is read when it arrives, not before
    return (Notification.objects.filter(recipient=user, read_at=None, due_at__lte=now)
            .update(read_at=now))
