"""The queue's SLA views ("Breaching soon", "Breached", sort by time to breach) on open incidents.

Built CONCURRENTLY, so a desk with a million incidents keeps taking writes while they build.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

OPEN = models.Q(state__in=("new", "in_progress", "on_hold"))


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("incidents", "0009_sla_defaults")]

    operations = [
        AddIndexConcurrently(model_name="incident", index=models.Index(
            fields=["sla_due_at", "id"], name="inc_sla_due")),
        AddIndexConcurrently(model_name="incident", index=models.Index(
            fields=["priority", "opened_at"],
            condition=OPEN & models.Q(sla_breached_at__isnull=False), name="inc_open_breached")),
    ]
