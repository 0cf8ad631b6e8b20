"""The beat schedule, defined here and created by name after every migrate when missing.

An entry that exists keeps what an admin set in the admin (interval, enabled); only its task
path follows the code. `label` and `description` are what the admin's periodic-task list shows
(`job_label`, `job_description`, `runs_label`): the name stays the key rows are found by.
"""

BEAT_SCHEDULE = {
    "SLA clocks: warn and flag breaches": {
        "task": "incidents.tasks.check_slas",
        "label": "SLA check",
        "description": "Warns before SLA targets are missed and flags breaches.",
        "every_seconds": 30,
    },
    "on-call: run due escalation steps": {
        "task": "oncall.tasks.tick_pages",
        "label": "On-call escalation steps",
        "description": "Pages the next person or step when nobody acknowledged in time.",
        "every_seconds": 15,
    },
    "on-call: escalation matrix (managers, status updates)": {
        "task": "oncall.tasks.tick_matrix",
        "label": "Escalation matrix",
        "description": "Tells managers about ageing incidents; asks for status updates.",
        "every_seconds": 60,
    },
    "problems: suggest problems for recurring incidents": {
        "task": "problems.tasks.detect_recurrence",
        "label": "Recurring-incident detection",
        "description": "Groups similar incidents and suggests a problem for them.",
        "every_seconds": 15 * 60,
    },
    "incidents: remind follow-ups of incidents on hold": {
        "task": "incidents.tasks.remind_follow_ups",
        "label": "Follow-up reminders",
        "description": "Notes a reminder on on-hold incidents whose follow-up time has come.",
        "every_seconds": 60,
    },
    "incidents: auto-close resolved incidents": {
        "task": "incidents.tasks.auto_close_resolved",
        "label": "Auto-close resolved incidents",
        "description": "Closes resolved incidents nobody replied to for a few days.",
        "every_seconds": 15 * 60,
    },
    "notifications: deliver what is due": {
        "task": "itsm.tasks.sweep_notifications",
        "label": "Deliver notifications",
        "description": "Sends the e-mails and messages that are due; retries failures.",
        "every_seconds": 15,
    },
    "broker: purge consumed messages": {
        "task": "itsm.tasks.purge_broker_messages",
        "label": "Broker clean-up",
        "description": "Deletes messages the workers already took from the database broker.",
        "every_seconds": 60 * 60,
    },
    "service desk: heartbeat": {
        "task": "itsm.tasks.heartbeat",
        "label": "Heartbeat",
        "description": "Shows the worker and beat are alive (/healthz?full=1 reads it).",
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
                "task": entry["task"], "interval": interval,
                "description": entry.get("description", "")},
        )


def job_label(task) -> str:
    """A PeriodicTask's plain-language name: its entry's label, else its own name."""
    return BEAT_SCHEDULE.get(task.name, {}).get("label", task.name)


def job_description(task) -> str:
    """What the job does, in one line: its entry's, else the row's own description."""
    return BEAT_SCHEDULE.get(task.name, {}).get("description", task.description or "")


_SECONDS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def every_label(seconds: int) -> str:
    """900 → "every 15 minutes", 3600 → "every hour", 90 → "every 90 seconds"."""
    for unit, size in _UNITS:
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"every {unit}" if count == 1 else f"every {count} {unit}s"
    return f"every {seconds} seconds"


def runs_label(task) -> str:
    """How often a PeriodicTask runs, in words ("every 30 seconds", "once at …")."""
    if task.interval_id:
        interval = task.interval
        if interval.period not in _SECONDS:
            return f"every {interval.every} {interval.period}"
        return every_label(interval.every * _SECONDS[interval.period])
    if task.crontab_id:
        return task.crontab.human_readable
    if task.clocked_id:
        return f"once at {task.clocked.clocked_time:%Y-%m-%d %H:%M %Z}"
    if task.solar_id:
        return str(task.solar)
    return "never (no schedule)"
