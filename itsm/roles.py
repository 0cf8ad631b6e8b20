"""The four roles as groups with their permissions.

Applied by the data migration itsm/0002 and again after every migrate or flush (post_migrate),
so a fresh or flushed database always has them.
"""

from django.apps import apps as global_apps

VIEW_CONFIG = ["view_team", "view_service", "view_category", "view_routingrule",
               "view_prioritymatrix", "view_businesscalendar", "view_slapolicy", "view_slaclock"]
ONCALL_VIEW = ["view_schedule", "view_layer", "view_override", "view_shiftswap",
               "view_escalationpolicy", "view_escalationstep", "view_page", "view_matrixrule"]
AGENT = ["view_incident", "add_incident", "change_incident", "view_timelineentry",
         "add_timelineentry", "view_user", *VIEW_CONFIG, *ONCALL_VIEW]
ROLES = {
    "Requester": ["add_incident"],
    "Agent": AGENT,
    "Manager": [*AGENT, "override_priority", "work_any_incident", "change_team",
                "view_sla_dashboard",
                # Managers keep every roster (overrides, swaps) from the on-call pages, and,
                # given staff status, the escalation matrix and rosters in the admin.
                "change_schedule", "add_override", "change_override", "delete_override",
                *(f"{action}_{model}" for action in ("add", "change", "delete")
                  for model in ("escalationpolicy", "escalationstep", "matrixrule", "layer",
                                "layermember", "restriction"))],
    # Admins configure the desk in the Django admin (they also need is_staff).
    "Admin": None,
}
# axes: admins see sign-in lockouts and lift one by deleting its access attempt.
ADMIN_APPS = ["auth", "itsm", "incidents", "problems", "oncall", "django_celery_beat", "axes"]


def sync_roles(apps=global_apps, **kwargs) -> None:
    """Create the groups if missing and give each exactly its permissions."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        if codenames is None:
            perms = Permission.objects.filter(content_type__app_label__in=ADMIN_APPS)
        else:
            perms = Permission.objects.filter(
                codename__in=codenames, content_type__app_label__in=["itsm", "incidents", "oncall"]
            )
        group.permissions.set(perms)
