"""The desk's Django admin: branded, with its models grouped by what people come to do.

`DeskAdminSite` is the default site (`itsm.apps.DeskAdminConfig` in INSTALLED_APPS), so every
`admin.site.register` / `@admin.register` in the apps lands here unchanged. Only the index and
the sidebar are grouped: an app's own page (/admin/incidents/) lists that app as Django does.
"""

from django.contrib import admin

# (slug, title, collapsed, models as "app_label.model_name" in the order shown).
SECTIONS = [
    ("desk-configuration", "Desk configuration", False, [
        "itsm.desksettings", "itsm.team", "itsm.service", "incidents.category",
        "incidents.prioritymatrix", "incidents.routingrule", "itsm.businesscalendar",
        "itsm.holiday", "incidents.slapolicy", "problems.recurrencesettings",
    ]),
    ("incidents", "Incidents", False, [
        "incidents.incident", "incidents.slaclock", "attachments.attachment",
        "incidents.savedfilter",
    ]),
    ("problems-knowledge", "Problems & knowledge", False, [
        "problems.problem", "problems.suggestedproblem", "problems.knownerror",
        "problems.article", "problems.workaroundapplication",
    ]),
    ("on-call", "On call", False, [
        "oncall.schedule", "oncall.layer", "oncall.override", "oncall.shiftswap",
        "oncall.escalationpolicy", "oncall.matrixrule", "oncall.page",
    ]),
    ("people", "People", False, [
        "itsm.user", "auth.group", "oncall.contactmethod", "oncall.notificationrule",
    ]),
    ("system", "System", True, [
        "itsm.apitoken", "itsm.heartbeat", "itsm.notification",
        "axes.accessattempt", "axes.accessfailurelog", "axes.accesslog",
        "django_celery_beat.periodictask", "django_celery_beat.intervalschedule",
        "django_celery_beat.crontabschedule", "django_celery_beat.clockedschedule",
        "django_celery_beat.solarschedule",
    ]),
]

# A model the lists above do not name joins its app's section; other apps' go to System.
APP_SECTIONS = {"itsm": "desk-configuration", "incidents": "incidents",
                "attachments": "incidents", "problems": "problems-knowledge",
                "oncall": "on-call", "auth": "people"}
FALLBACK_SECTION = "system"


def section_of(model) -> str:
    """The slug of the section a registered model is listed in."""
    key = model._meta.label_lower
    for slug, _title, _collapsed, models in SECTIONS:
        if key in models:
            return slug
    return APP_SECTIONS.get(model._meta.app_label, FALLBACK_SECTION)


class DeskAdminSite(admin.AdminSite):
    site_header = "Service desk administration"
    site_title = "Service desk admin"
    index_title = "Configure the desk"

    def get_app_list(self, request, app_label=None):
        """The sections of SECTIONS, in order, holding the models this user may see."""
        if app_label:
            return super().get_app_list(request, app_label)
        apps = self._build_app_dict(request)
        found = {}
        for app in apps.values():
            for model in app["models"]:
                model["app_label"] = app["app_label"]
                found[model["model"]._meta.label_lower] = model
        sections = []
        for slug, title, collapsed, names in SECTIONS:
            listed = [found[name] for name in names if name in found]
            rest = sorted((m for key, m in found.items()
                           if key not in names and section_of(m["model"]) == slug),
                          key=lambda m: m["name"])
            models = listed + rest
            if models:
                current = any(m["admin_url"] and request.path.startswith(m["admin_url"])
                              for m in models)
                sections.append({"name": title, "app_label": slug, "app_url": "",
                                 "collapsed": collapsed, "current": current,
                                 "has_module_perms": True, "models": models})
        return sections
