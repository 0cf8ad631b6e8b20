"""Numbers from outside (ids, versions, page numbers): accepted only when they fit.

Anything else is a clear error naming the field, never a database error: PostgreSQL ids are
64-bit, and a float or a word where an id belongs is refused rather than coerced.
"""

import django_filters
from django import forms

MAX_ID = 2**63 - 1  # bigint, the primary keys
MAX_COUNTER = 2**31 - 1  # integer columns: versions, and the pager's page and offset


def parse_id(value) -> int | None:
    """An id written in ASCII digits within range, else None."""
    text = str(value)
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


class IdField(forms.IntegerField):
    """A form field for an id: a whole number from 1 to MAX_ID."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class IdFilter(django_filters.NumberFilter):
    """Filter on an id column; a value that is no id makes the filter invalid (API: 400)."""

    field_class = IdField
