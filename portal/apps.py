from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Requester portal"

    def ready(self):
        # Registers the "we need your reply" e-mail. `ItsmConfig.ready` autodiscovers every
        # app's `subscribers` module too; a module is imported once, so it subscribes once.
        from portal import subscribers  # noqa: F401
