"""The beat schedule, defined here and created by name after every migrate when missing.

An entry that exists keeps what an admin set in the admin (interval, enabled); only its task
path follows the code.
"""

BEAT_SCHEDULE = {
    "SLA clocks: warn and flag breaches": {
        "task": "incidents.tasks.check_slas",
        "every_seconds": 30,
    },
    "on-call: run due escalation steps": {
        "task": "oncall.tasks.tick_pages",
        "every_seconds": 15,
    },
    "on-call: escalation matrix (managers, status updates)": {
        "task": "oncall.tasks.tick_matrix",
        "every_seconds": 60,
    },
    "problems: suggest problems for recurring incidents": {
        "task": "problems.tasks.detect_recurrence",
        "every_seconds": 15 * 60,
    },
    "incidents: auto-close resolved incidents": {
        "task": "incidents.tasks.auto_close_resolved",
        "every_seconds": 15 * 60,
    },
    "notifications: deliver what is due": {
        "task": "itsm.tasks.sweep_notifications",
        "every_seconds": 15,
    },
    "broker: purge consumed messages": {
        "task": "itsm.tasks.purge_broker_messages",
        "every_seconds": 60 * 60,
    },
    "service desk: heartbeat": {
        "task": "itsm.tasks.heartbeat",
        "every_seconds": 60,
    },
}


def sync_beat_schedule(**kwargs) -> None:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    for name, entry in BEAT_SCHEDULE.items():
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=entry["every_seconds"], period=IntervalSchedule.SECONDS
        )
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": entry["task"]}, create_defaults={
                "task": entry["task"], "interval": interval},
        )
