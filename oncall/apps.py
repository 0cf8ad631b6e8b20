from django.apps import AppConfig


class OncallConfig(AppConfig):
    """Schedules, rotations, escalation policies and paging."""

    name = "oncall"
    verbose_name = "On-call"

    def ready(self):
        from oncall import signals

        signals.connect()
