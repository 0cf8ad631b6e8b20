from django.apps import AppConfig


class ProblemsConfig(AppConfig):
    """Problems, known errors and knowledge: filed in a later issue."""

    name = "problems"
