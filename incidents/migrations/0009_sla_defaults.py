from django.db import migrations

from incidents.defaults import seed_sla_policies


def seed(apps, schema_editor):
    seed_sla_policies(apps)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0008_sla"), ("itsm", "0008_default_calendars")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
