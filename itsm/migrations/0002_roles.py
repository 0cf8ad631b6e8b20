from django.contrib.auth.management import create_permissions
from django.db import migrations

from itsm.roles import sync_roles


def create_roles(apps, schema_editor):
    for config in apps.get_app_configs():  # permissions normally appear only after migrate
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None
    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("itsm", "0001_initial"),
        ("incidents", "0003_priority_matrix_defaults"),
        ("django_celery_beat", "0001_initial"),
        ("authtoken", "0001_initial"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
