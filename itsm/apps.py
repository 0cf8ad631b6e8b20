from django.apps import AppConfig


class ItsmConfig(AppConfig):
    name = "itsm"
    verbose_name = "Service desk"

    def ready(self):
        from django.db.models.signals import post_migrate

        from itsm.schedule import sync_beat_schedule

        post_migrate.connect(sync_beat_schedule, sender=self)
