"""The five roles as groups with their permissions.

Applied by the data migration itsm/0002 and again after every migrate or flush (post_migrate),
so a fresh or flushed database always has them.
"""

from django.apps import apps as global_apps

VIEW_CONFIG = ["view_team", "view_service", "view_category", "view_routingrule",
               "view_prioritymatrix", "view_businesscalendar", "view_slapolicy", "view_slaclock"]
ONCALL_VIEW = ["view_schedule", "view_layer", "view_override", "view_shiftswap",
               "view_escalationpolicy", "view_escalationstep", "view_page", "view_matrixrule"]
# Agents read problems and knowledge, log problems from incidents, link incidents, apply
# workarounds and draft known errors and articles; problem managers run the lifecycle and
# publish.
KNOWLEDGE = ["view_problem", "add_problem", "change_problem", "view_knownerror",
             "add_knownerror", "change_knownerror", "view_article", "add_article",
             "change_article", "view_suggestedproblem"]
AGENT = ["view_incident", "add_incident", "change_incident", "view_timelineentry",
         "add_timelineentry", "view_user", *VIEW_CONFIG, *ONCALL_VIEW, *KNOWLEDGE]
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
    # Problem managers also work the incidents of their problems, whichever team has them
    # (resolving every incident a fix closes is one action on the problem).
    "Problem Manager": [*AGENT, "manage_problem", "work_any_incident",
                        "change_suggestedproblem", "delete_article", "delete_knownerror",
                        "change_recurrencesettings", "view_recurrencesettings"],
    # Admins configure the desk in the Django admin (they also need is_staff).
    "Admin": None,
}
# axes: admins see sign-in lockouts and lift one by deleting its access attempt.
ADMIN_APPS = ["auth", "itsm", "incidents", "problems", "oncall", "attachments",
              "django_celery_beat", "axes"]


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
                codename__in=codenames, content_type__app_label__in=["itsm", "incidents", "oncall",
                                                                     "problems"]
            )
        group.permissions.set(perms)
