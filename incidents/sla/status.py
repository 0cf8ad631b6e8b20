"""How a stored clock reads at an instant: time left in business time, and the badge for it.

Read-only arithmetic on the stored due time and pauses (nothing is recomputed or written):
used by the queue's badges, the incident page and the API.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.timezone import localtime

from incidents.choices import ClockStage, SlaKind
from incidents.models import SlaClock
from incidents.sla.engine import human
from itsm.business_time import business_time_between
from itsm.models import BusinessCalendar


@dataclass(frozen=True)
class Reading:
    clock: SlaClock
    tone: str  # ok, warning, breached, paused, met, canceled: the badge's colour
    label: str  # "Response · 10 min left"
    left: timedelta | None  # business time left (negative: overdue), None once stopped

    @property
    def title(self) -> str:
        """The tooltip: which target, and its due time in the viewer's zone."""
        c = self.clock
        due = (f"due {localtime(c.due_at):%d %b %Y, %H:%M %Z}" if c.due_at
               else "no due time while paused")
        return f"{c.get_kind_display()} {c.get_target_display().lower()}, {due}"


def read(clock: SlaClock, calendar: BusinessCalendar, now: datetime) -> Reading:
    target = clock.get_target_display()
    if clock.kind == SlaKind.OLA:
        target = f"OLA {target.lower()}"
    if clock.stage == ClockStage.BREACHED:
        return Reading(clock, "breached", f"{target} · breached", None)
    if clock.stage in (ClockStage.MET, ClockStage.CANCELED):
        return Reading(clock, clock.stage, f"{target} · {clock.get_stage_display().lower()}",
                       None)
    if clock.stage == ClockStage.PAUSED:
        since = datetime.fromisoformat(clock.pauses[-1][0]) if clock.pauses else clock.started_at
        used = business_time_between(calendar, clock.started_at, since) - clock.paused_for
        left = clock.duration - used
        return Reading(clock, "paused", f"{target} · paused, {human(left)} left", left)
    if clock.due_at <= now:
        return Reading(clock, "breached", f"{target} · {human(now - clock.due_at)} overdue",
                       -(now - clock.due_at))
    left = business_time_between(calendar, now, clock.due_at)
    tone = "warning" if clock.warned else "ok"
    return Reading(clock, tone, f"{target} · {human(left)} left", left)


def headline(readings: list[Reading]) -> Reading | None:
    """The one reading a queue row shows: a breach, else the nearest deadline, else a pause."""
    slas = [r for r in readings if r.clock.kind == SlaKind.SLA and r.tone != "canceled"]
    breached = [r for r in slas if r.tone == "breached"]
    if breached:
        return breached[0]
    running = sorted((r for r in slas if r.tone in ("ok", "warning")), key=lambda r: r.left)
    if running:
        return running[0]
    paused = [r for r in slas if r.tone == "paused"]
    return paused[0] if paused else (slas[-1] if slas else None)


def readings_for(incidents, now: datetime, *, kinds=(SlaKind.SLA,)) -> dict[int, list[Reading]]:
    """Every incident's clock readings, in one query."""
    ids = [incident.pk for incident in incidents]
    readings: dict[int, list[Reading]] = {pk: [] for pk in ids}
    for clock in (SlaClock.objects.filter(incident_id__in=ids, kind__in=kinds)
                  .exclude(stage=ClockStage.CANCELED).select_related("calendar", "team")
                  .order_by("incident_id", "id")):
        readings[clock.incident_id].append(read(clock, clock.calendar, now))
    return readings
