from django.db import migrations

from itsm.calendars import seed_calendars


def seed(apps, schema_editor):
    seed_calendars(apps)


class Migration(migrations.Migration):
    dependencies = [("itsm", "0007_business_calendars")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
