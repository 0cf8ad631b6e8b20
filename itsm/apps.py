from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ItsmConfig(AppConfig):
    default = True  # this module holds DeskAdminConfig too
    name = "itsm"
    verbose_name = "Service desk"

    def ready(self):
        from django.db.models.signals import post_migrate
        from django.utils.module_loading import autodiscover_modules

        from itsm.roles import sync_roles
        from itsm.schedule import sync_beat_schedule

        # Also after a flush (transactional tests), which empties these tables. Roles run after
        # every app's signal, as each app's permissions only exist once its own signal ran.
        post_migrate.connect(sync_roles, dispatch_uid="itsm.sync_roles")
        post_migrate.connect(sync_beat_schedule, sender=self)
        # Every app's `subscribers` module registers its event handlers, in INSTALLED_APPS
        # order (incidents' timeline and notifications first, as the apps are listed).
        autodiscover_modules("subscribers")


class DeskAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the desk's site (itsm.admin_site) as `admin.site`."""

    default = False
    default_site = "itsm.admin_site.DeskAdminSite"
