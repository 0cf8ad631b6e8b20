from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW_CONFIG = ["view_team", "view_service", "view_category", "view_routingrule",
               "view_prioritymatrix"]
AGENT = ["view_incident", "add_incident", "change_incident", "view_timelineentry",
         "add_timelineentry", "view_user", *VIEW_CONFIG]
ROLES = {
    "Requester": ["add_incident"],
    "Agent": AGENT,
    "Manager": [*AGENT, "override_priority", "work_any_incident", "change_team"],
    # Admins configure the desk in the Django admin (they also need is_staff).
    "Admin": None,
}
ADMIN_APPS = ["itsm", "incidents", "problems", "oncall", "django_celery_beat", "authtoken"]


def create_roles(apps, schema_editor):
    for config in apps.get_app_configs():  # permissions normally appear only after migrate
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        if codenames is None:
            perms = Permission.objects.filter(content_type__app_label__in=ADMIN_APPS)
            perms = perms | Permission.objects.filter(content_type__app_label="auth")
        else:
            perms = Permission.objects.filter(
                codename__in=codenames, content_type__app_label__in=["itsm", "incidents"]
            )
        group.permissions.set(perms)


class Migration(migrations.Migration):
    dependencies = [
        ("itsm", "0001_initial"),
        ("incidents", "0003_priority_matrix_defaults"),
        ("django_celery_beat", "0001_initial"),
        ("authtoken", "0001_initial"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
