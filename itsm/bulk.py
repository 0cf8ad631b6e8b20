"""Writing many rows fast: COPY in, and one UPDATE from arrays (the sweeps' and the tick's).

Django's `bulk_create` and `bulk_update` build their SQL field by field and row by row; for the
hundreds of rows a sweep writes, that costs more than the database does.
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models


def copy_in(model, rows) -> None:
    """Insert rows with COPY (a thousand ledger or timeline rows from one sweep); no ids back."""
    if not rows:
        return
    columns = [f for f in model._meta.concrete_fields if not f.primary_key]
    names = ", ".join(f.column for f in columns)
    with connection.cursor() as cursor, cursor.copy(
            f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([_copy_value(row, f) for f in columns])


def _copy_value(row, field):
    value = getattr(row, field.attname)
    if value is None and field.has_default():
        value = field.get_default()
    if isinstance(field, models.JSONField):
        return None if value is None else json.dumps(value, cls=DjangoJSONEncoder)
    return field.get_db_prep_value(value, connection)


def update_many(model, rows, fields: list[str]) -> None:
    """One UPDATE … FROM unnest(arrays) for many rows: `bulk_update`'s CASE per field costs
    seconds to build for a thousand rows, this a few milliseconds."""
    if not rows:
        return
    columns = [model._meta.get_field(name) for name in fields]
    types = [column.db_type(connection) for column in columns]
    assignments = ", ".join(f"{c.column} = v.{c.column}" for c in columns)
    arrays = ", ".join(f"%s::{kind}[]" for kind in ["bigint", *types])
    names = ", ".join(["id", *(c.column for c in columns)])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {model._meta.db_table} AS t SET {assignments} "
            f"FROM unnest({arrays}) AS v({names}) WHERE t.id = v.id",
            [[row.pk for row in rows],
             *([column.get_db_prep_value(getattr(row, column.attname), connection)
                for row in rows] for column in columns)])


def _column(rows, field) -> list:
    """One column's values as psycopg adapts them: model instances built in Python already hold
    their defaults, and only JSON needs encoding (`get_db_prep_value` per value is the slow
    part of a big insert)."""
    if isinstance(field, models.JSONField):
        return [_copy_value(row, field) for row in rows]
    name = field.attname
    return [getattr(row, name) for row in rows]


def insert_many(model, rows, *, unique: str) -> None:
    """Insert rows with one INSERT … SELECT FROM unnest(arrays), skipping those whose `unique`
    column is already there, and give every row its id (the existing one for those).

    What `bulk_create(update_conflicts=True)` does, for a fraction of its cost to build.
    """
    if not rows:
        return
    columns = [f for f in model._meta.concrete_fields if not f.primary_key]
    key = model._meta.get_field(unique).column
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {model._meta.db_table} ({', '.join(f.column for f in columns)}) "
            f"SELECT * FROM unnest({arrays}) "
            # The no-op update makes PostgreSQL return the rows that were already there too.
            f"ON CONFLICT ({key}) DO UPDATE SET {key} = EXCLUDED.{key} RETURNING id, {key}",
            [_column(rows, f) for f in columns])
        ids = dict((value, pk) for pk, value in cursor.fetchall())
    for row in rows:
        row.pk = ids[getattr(row, unique)]
