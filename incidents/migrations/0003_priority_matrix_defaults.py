from django.db import migrations

from incidents.defaults import seed_priority_matrix


def seed(apps, schema_editor):
    seed_priority_matrix(apps)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
