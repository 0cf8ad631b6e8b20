"""An index per sort the queue and the API offer, each ending in the id that breaks ties, and
full (not only open) indexes for the team and assignee filters.

Built CONCURRENTLY, so a desk with a million incidents keeps taking writes while they build.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("incidents", "0006_timeline_codes_backfill")]

    operations = [
        RemoveIndexConcurrently(model_name="incident", name="inc_opened"),
        RemoveIndexConcurrently(model_name="incident", name="inc_updated"),
        *(AddIndexConcurrently(model_name="incident", index=models.Index(fields=fields, name=name))
          for name, fields in [
              ("inc_opened", ["opened_at", "id"]),
              ("inc_updated", ["updated_at", "id"]),
              ("inc_priority", ["priority", "id"]),
              ("inc_state", ["state", "opened_at", "id"]),
              ("inc_resolved", ["resolved_at", "id"]),
              ("inc_team", ["assignment_team", "opened_at"]),
              ("inc_assignee", ["assignee", "opened_at"]),
          ]),
    ]
