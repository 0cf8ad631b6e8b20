from django.apps import AppConfig


class OncallConfig(AppConfig):
    """Schedules, rotations and escalation policies: filed in a later issue."""

    name = "oncall"
    verbose_name = "On-call"
