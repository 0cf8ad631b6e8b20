"""Defaults a desk starts with; applied by migration and again after every migrate or flush."""

from django.apps import apps as global_apps

# The usual ITIL grid: rows are impact, columns urgency (high, medium, low).
PRIORITY_MATRIX = {
    "high": {"high": 1, "medium": 2, "low": 3},
    "medium": {"high": 2, "medium": 3, "low": 4},
    "low": {"high": 3, "medium": 4, "low": 4},
}


def seed_priority_matrix(apps=global_apps, **kwargs) -> None:
    """Fill missing cells with the default; cells an admin changed are left alone."""
    PriorityMatrix = apps.get_model("incidents", "PriorityMatrix")
    for impact, row in PRIORITY_MATRIX.items():
        for urgency, priority in row.items():
            PriorityMatrix.objects.get_or_create(impact=impact, urgency=urgency,
                                                 defaults={"priority": priority})
