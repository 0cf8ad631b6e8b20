"""The SLA dashboard's indexes: decided clocks by decision time, with what it groups by (so the
counts are index-only scans), and incidents by acknowledgement time (MTTA).

Built CONCURRENTLY, so a desk with millions of clocks keeps taking writes while they build.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models

GROUPED = ["kind", "target", "team", "incident"]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("incidents", "0011_dashboard_permission")]

    operations = [
        RemoveIndexConcurrently(model_name="slaclock", name="clock_stopped"),
        RemoveIndexConcurrently(model_name="slaclock", name="clock_breached"),
        AddIndexConcurrently(model_name="slaclock", index=models.Index(
            fields=["stopped_at"], include=GROUPED, condition=models.Q(stage="met"),
            name="clock_met")),
        AddIndexConcurrently(model_name="slaclock", index=models.Index(
            fields=["breached_at"], include=GROUPED, condition=models.Q(stage="breached"),
            name="clock_breached_at")),
        AddIndexConcurrently(model_name="incident", index=models.Index(
            fields=["acknowledged_at"], name="inc_acknowledged")),
    ]
