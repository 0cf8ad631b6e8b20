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


# The usual SLA table: (priority, response, resolution, calendar), in business minutes.
SLA_DEFAULTS = [
    (1, 15, 4 * 60, "24×7"),
    (2, 30, 8 * 60, "24×7"),
    (3, 4 * 60, 2 * 480, "Office hours"),
    (4, 480, 5 * 480, "Office hours"),
]


def seed_sla_policies(apps=global_apps, **kwargs) -> None:
    """The default SLA per priority, when the desk has no policy at all (an admin's are kept)."""
    from incidents.sla.policies import seed_versions
    from itsm.calendars import seed_calendars

    SlaPolicy = apps.get_model("incidents", "SlaPolicy")
    BusinessCalendar = apps.get_model("itsm", "BusinessCalendar")
    if SlaPolicy.objects.exists():
        return
    seed_calendars(apps)
    calendars = {c.name: c for c in BusinessCalendar.objects.all()}
    policies = [
        SlaPolicy.objects.create(
            name=f"P{priority} default", kind="sla", position=priority * 10, priority=priority,
            response_minutes=response, response_calendar=calendars[calendar],
            resolution_minutes=resolution, resolution_calendar=calendars[calendar],
            pause_states=["on_hold"], warn_percents=[75, 90])
        for priority, response, resolution, calendar in SLA_DEFAULTS
    ]
    seed_versions(apps, policies)
