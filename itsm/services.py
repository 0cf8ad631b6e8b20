"""Writes to the shared core that have rules: a person's own profile and API token."""

import zoneinfo

from django.db import transaction
from rest_framework.authtoken.models import Token

from itsm.exceptions import InvalidInput
from itsm.models import User

PROFILE_FIELDS = ("first_name", "last_name", "email", "phone", "time_zone")


@transaction.atomic
def user_update_profile(*, user: User, **changes) -> User:
    """Change one's own name, contact details and display time zone (empty = site default)."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise InvalidInput.field(sorted(unknown)[0], "This field cannot be changed here.")
    time_zone = changes.get("time_zone", user.time_zone)
    if time_zone and time_zone not in zoneinfo.available_timezones():
        raise InvalidInput.field("time_zone", f"{time_zone!r} is not a known time zone.")
    for name, value in changes.items():
        setattr(user, name, value)
    user.save(update_fields=list(changes))
    return user


@transaction.atomic
def user_rotate_api_token(*, user: User) -> Token:
    """Replace the user's API token; the old one stops working at once."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)
