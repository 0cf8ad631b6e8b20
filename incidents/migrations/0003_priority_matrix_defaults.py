from django.db import migrations

# The usual ITIL grid: rows are impact, columns urgency (high, medium, low).
DEFAULTS = {
    "high": {"high": 1, "medium": 2, "low": 3},
    "medium": {"high": 2, "medium": 3, "low": 4},
    "low": {"high": 3, "medium": 4, "low": 4},
}


def seed(apps, schema_editor):
    PriorityMatrix = apps.get_model("incidents", "PriorityMatrix")
    for impact, row in DEFAULTS.items():
        for urgency, priority in row.items():
            PriorityMatrix.objects.get_or_create(impact=impact, urgency=urgency,
                                                 defaults={"priority": priority})


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
