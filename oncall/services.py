"""Writes with rules: overrides and swaps, contact methods, and paging.

Paging never drops a page: the next step's due time is in the page row, a celery task is
scheduled for it, and the beat tick (`pages_tick`, every 15 s) runs any step that is due, so a
lost task or a restarted worker costs seconds, not the page. A step runs only if it is still
the page's current one: the task carries the token the page had when the step was scheduled,
and every run locks the row and compares. People are notified through the outbox, keyed by
(page, step, repetition, person, contact method), so a step that somehow ran twice writes
nothing new.
"""

import functools
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse

from incidents import rules as incident_rules
from incidents.choices import State
from incidents.models import Incident
from itsm import clock
from itsm.bulk import update_many
from itsm.events import publish
from itsm.exceptions import Conflict, Forbidden, InvalidInput
from itsm.models import Team, User
from itsm.notifications import (
    Message,
    apprise_url_error,
    notifications_cancel,
    notifications_queue_many,
)
from oncall import events, roster
from oncall.choices import ContactKind, PageState, SwapState, Urgency
from oncall.escalation import (
    CHANNEL_OF,
    Directory,
    policy_for,
    rung_of,
    snapshot,
    team_to_page,
    urgency_for,
)
from oncall.models import (
    ContactMethod,
    NotificationRule,
    Override,
    Page,
    PageNotice,
    Schedule,
    ShiftSwap,
)
from oncall.selectors import LONGEST_OVERRIDE, roster_specs

log = logging.getLogger(__name__)


# --- overrides and swaps ---------------------------------------------------------------------

def _check_span(start: datetime | None, end: datetime | None) -> None:
    errors = {}
    if start is None:
        errors["starts_at"] = ["Say when it starts."]
    if end is None:
        errors["ends_at"] = ["Say when it ends."]
    if not errors and end <= start:
        errors["ends_at"] = ["It must end after it starts."]
    if not errors and end - start > LONGEST_OVERRIDE:
        errors["ends_at"] = ["At most 92 days at a time: change the rotation instead."]
    if errors:
        raise InvalidInput("Check the times.", field_errors=errors)


def can_edit_roster(user: User, schedule: Schedule) -> bool:
    """Managers and admins edit every roster; an agent the rosters of their own teams."""
    if not user.is_authenticated:
        return False
    if user.has_perm("oncall.change_schedule") or user.has_perm("incidents.work_any_incident"):
        return True
    return schedule.team_id is not None and incident_rules.is_agent(user) and \
        schedule.team_id in incident_rules.team_ids(user)


@transaction.atomic
def override_create(*, schedule: Schedule, user: User | None, starts_at: datetime | None,
                    ends_at: datetime | None, by: User, note: str = "",
                    replaces: User | None = None) -> Override:
    """Put someone on call over every layer between two instants."""
    if not can_edit_roster(by, schedule):
        raise Forbidden("Only the team's members and managers change this roster.")
    if user is None:
        raise InvalidInput.field("user", "Choose who covers.")
    if not user.is_active or not incident_rules.is_agent(user):
        raise InvalidInput.field("user", f"{user} cannot be on call: only active agents can.")
    _check_span(starts_at, ends_at)
    if ends_at <= clock.now():
        raise InvalidInput.field("ends_at", "That time is already over.")
    return Override.objects.create(schedule=schedule, user=user, starts_at=starts_at,
                                   ends_at=ends_at, note=(note or "").strip()[:200],
                                   replaces=replaces, created_by=by)


@transaction.atomic
def override_delete(*, override: Override, by: User) -> None:
    if not can_edit_roster(by, override.schedule):
        raise Forbidden("Only the team's members and managers change this roster.")
    override.delete()


@transaction.atomic
def swap_request(*, schedule: Schedule, by: User, starts_at: datetime | None,
                 ends_at: datetime | None, note: str = "") -> ShiftSwap:
    """Offer part of one's own shift to the team."""
    if not can_edit_roster(by, schedule):
        raise Forbidden("Only the team's members offer shifts on this roster.")
    _check_span(starts_at, ends_at)
    if ends_at <= clock.now():
        raise InvalidInput.field("ends_at", "That shift is already over.")
    value = roster_specs([schedule.pk], starts_at, ends_at)[schedule.pk]
    if any(shift.user != by.pk for shift in roster.final_shifts(value, starts_at, ends_at)) \
            or roster.gaps(value, starts_at, ends_at):
        raise InvalidInput.field("starts_at", "Offer only time when you are on call in this "
                                 "schedule.")
    swap = ShiftSwap.objects.create(schedule=schedule, requested_by=by, starts_at=starts_at,
                                    ends_at=ends_at, note=(note or "").strip()[:200])
    team = User.objects.filter(teams=schedule.team_id, is_active=True).exclude(pk=by.pk) \
        if schedule.team_id else User.objects.none()
    _tell(f"swap:{swap.pk}:offered", list(team), f"Shift offered: {schedule} by {by}",
          f"{by} offers their shift from {_when(starts_at)} to {_when(ends_at)}"
          + (f" ({swap.note})" if swap.note else "") + ". Take it on the roster: "
          + _link("oncall:schedule", str(schedule.pk)))
    return swap


def _when(instant: datetime) -> str:
    return f"{instant.astimezone(UTC):%a %d %b %H:%M} UTC"


def _tell(key: str, people: list, subject: str, body: str) -> None:
    """A notice in the desk and by e-mail (roster news, not a page)."""
    notifications_queue_many(Message(key, people, subject, body, channel=channel)
                             for channel in (CHANNEL_OF[ContactKind.IN_APP],
                                             CHANNEL_OF[ContactKind.EMAIL]))


@transaction.atomic
def swap_take(*, swap: ShiftSwap, by: User) -> Override:
    """A teammate takes an offered shift: it becomes an override with both names on it."""
    swap = ShiftSwap.objects.select_for_update().select_related("schedule", "requested_by") \
        .get(pk=swap.pk)
    if swap.state != SwapState.OPEN:
        raise Conflict("Someone else took this shift, or it was withdrawn.")
    if swap.requested_by_id == by.pk:
        raise InvalidInput("You offered this shift: a teammate takes it.")
    if not can_edit_roster(by, swap.schedule):
        raise Forbidden("Only the team's members take shifts on this roster.")
    override = Override.objects.create(
        schedule=swap.schedule, user=by, starts_at=swap.starts_at, ends_at=swap.ends_at,
        replaces=swap.requested_by, created_by=by,
        note=f"Swap: covers for {swap.requested_by}" + (f" ({swap.note})" if swap.note else ""))
    swap.state, swap.taken_by, swap.override = SwapState.TAKEN, by, override
    swap.save(update_fields=["state", "taken_by", "override"])
    _tell(f"swap:{swap.pk}:taken", [swap.requested_by], f"{by} took your shift on {swap.schedule}",
          f"{by} covers for you from {_when(swap.starts_at)} to {_when(swap.ends_at)}.")
    return override


@transaction.atomic
def swap_cancel(*, swap: ShiftSwap, by: User) -> None:
    swap = ShiftSwap.objects.select_for_update().get(pk=swap.pk)
    if swap.requested_by_id != by.pk and not by.has_perm("oncall.change_schedule"):
        raise Forbidden("Only the person who offered it withdraws a swap.")
    if swap.state != SwapState.OPEN:
        raise Conflict("This swap is no longer open.")
    swap.state = SwapState.CANCELED
    swap.save(update_fields=["state"])


# --- escalation policies -------------------------------------------------------------------

@transaction.atomic
def policy_save(*, form, steps, by: User):
    """Save a policy and its steps from the managers' page, both valid, in one transaction.
    Pages already running keep the snapshot they started with."""
    if not by.has_perm("oncall.change_escalationpolicy"):
        raise Forbidden("Only managers and admins change escalation policies.")
    policy = form.save()
    steps.instance = policy
    steps.save()
    return policy


# --- contact methods -------------------------------------------------------------------------

def contact_method_add(*, user: User, kind: str, address: str = "", label: str = ""
                       ) -> ContactMethod:
    """Add a way to reach the person; the address must be usable on that channel."""
    return ContactMethod.objects.create(user=user, kind=kind,
                                        address=contact_address(kind, address),
                                        label=(label or "").strip()[:60])


def contact_address(kind: str, address: str | None) -> str:
    """The address as stored for this kind of contact method, or InvalidInput saying why not
    (an e-mail address, an Apprise URL Apprise recognises, nothing for in-app)."""
    address = (address or "").strip()
    if kind not in ContactKind.values:
        raise InvalidInput.field("kind", "Choose in-app, e-mail or an Apprise URL.")
    if kind == ContactKind.EMAIL:
        try:
            validate_email(address)
        except ValidationError:
            raise InvalidInput.field("address", "Enter a valid e-mail address.") from None
    elif kind == ContactKind.APPRISE:
        error = apprise_url_error(address) if address else "Enter the Apprise URL."
        if error:
            raise InvalidInput.field("address", error)
    else:
        address = ""
    if len(address) > 500:
        raise InvalidInput.field("address", "At most 500 characters.")
    return address


@transaction.atomic
def contact_method_delete(*, method: ContactMethod, by: User) -> None:
    """Remove one of one's own contact methods, and the ladder rungs that use it."""
    if method.user_id != by.pk:
        raise Forbidden("That is someone else's contact method.")
    method.delete()


MAX_DELAY_MINUTES = 24 * 60


def notification_rule_add(*, user: User, method: ContactMethod | None, urgency: str,
                          delay_minutes: int | None) -> NotificationRule:
    """Add a rung to the person's ladder: this method, this long after they are paged."""
    errors = {}
    if method is None or method.user_id != user.pk:
        errors["method"] = ["Choose one of your contact methods."]
    if urgency not in Urgency.values:
        errors["urgency"] = ["Choose high (pages) or low (notices)."]
    if delay_minutes is None or not 0 <= delay_minutes <= MAX_DELAY_MINUTES:
        errors["delay_minutes"] = [f"Minutes from 0 to {MAX_DELAY_MINUTES}."]
    if errors:
        raise InvalidInput("Check the rule.", field_errors=errors)
    rule, _ = NotificationRule.objects.get_or_create(user=user, method=method, urgency=urgency,
                                                     delay_minutes=delay_minutes)
    return rule


def notification_rule_delete(*, rule: NotificationRule, by: User) -> None:
    if rule.user_id != by.pk:
        raise Forbidden("That is someone else's rule.")
    rule.delete()


@transaction.atomic
def notification_test(*, user: User, method: ContactMethod | None = None) -> int:
    """Send the person a test message through one method, or their whole high-urgency ladder
    at once; returns how many messages were written."""
    if method is not None and method.user_id != user.pk:
        raise Forbidden("That is someone else's contact method.")
    rungs = [rung_of(method)] if method else Directory().ladder(user.pk, Urgency.HIGH)
    key = f"test:{uuid.uuid4()}"
    return len(notifications_queue_many(
        Message(f"{key}:m{rung.method or rung.channel}", [user], "Test notification",
                "This is how a page will reach you. Nothing needs doing.",
                channel=rung.channel, address=rung.address) for rung in rungs))


# --- paging ----------------------------------------------------------------------------------

def _link(name: str, arg: str) -> str:
    """An absolute link for a message (`reverse` once per name: a tick writes hundreds)."""
    placeholder, base = _links(name)
    return base.replace(placeholder, arg)


@functools.cache
def _links(name: str) -> tuple[str, str]:
    placeholder = {"incidents:detail": "INC0000000",
                   "oncall:schedule": "987654321"}.get(name, "TOKEN")
    return placeholder, settings.SITE_URL.rstrip("/") + reverse(name, args=[placeholder])


@transaction.atomic
def page_start(*, incident: Incident, by: User | None, reason: str, team: Team | None = None,
               manual: bool = False) -> Page | None:
    """Start paging a team for an incident (its own team unless named) and run the first step.

    Automatic pages (`manual` False) start only for the priorities the policy pages for and
    only when no page is running; a manual page says why it cannot start.
    """
    now = clock.now()
    incident = Incident.objects.select_for_update(of=("self",)).select_related(
        "assignment_team", "service").get(pk=incident.pk)
    team = team or team_to_page(incident.assignment_team, incident.service)
    if manual:
        if not incident_rules.is_agent(by):
            raise Forbidden("Only agents page a team.")
        if not (reason or "").strip():
            raise InvalidInput.field("reason", "Say why the team is paged.")
        if not incident.is_open:
            raise Conflict(f"{incident.number} is no longer open.")
    policy = policy_for(team, incident.service)
    frozen = snapshot(policy) if policy else None
    if not frozen or not frozen["steps"]:
        if manual:
            raise InvalidInput.field("team", f"{team or 'That team'} has no escalation policy "
                                     "with steps: ask an admin to add one.")
        return None
    running = Page.objects.filter(incident=incident, state=PageState.ACTIVE).first()
    if running:
        if manual:
            raise Conflict(f"{running.team} is already being paged for {incident.number}: "
                           "acknowledge or wait for that page first.")
        return None
    urgency = Urgency.HIGH if manual else urgency_for(policy, incident.priority)
    page = Page.objects.create(incident=incident, policy=policy, team=team, snapshot=frozen,
                               urgency=urgency, reason=(reason or "").strip()[:300],
                               started_at=now, started_by=by, due_at=now)
    publish(events.PageStarted(page=page, by=by, at=now))
    _run_steps([page], now, Directory())
    return page


def _run_steps(pages: list[Page], now: datetime, directory: Directory, *,
               schedule: bool = True) -> None:
    """Notify each page's current step's people, then set its next due time (rows locked).

    A batch at a time, so a tick with hundreds of due pages writes its notices, messages,
    timeline lines and page rows in a handful of statements.
    """
    directory.preload([page.snapshot["steps"][page.step] for page in pages], now)
    planned, notes = [], {}
    for page in pages:
        targets, notes[page.pk] = directory.targets(page.snapshot["steps"][page.step], now,
                                                    page.pk + page.repetition)
        planned += [PageNotice(page=page, step=page.step, repetition=page.repetition,
                               user_id=t.user, why=t.why[:300], at=now) for t in targets]
    for urgency in {page.urgency for page in pages}:
        directory.preload_people([n.user_id for n in planned if n.page.urgency == urgency],
                                 urgency)
    PageNotice.objects.bulk_create(planned, ignore_conflicts=True)
    # Re-read: rows already there (a step run twice) come back without ids or tokens.
    current = {(page.pk, page.step, page.repetition) for page in pages}
    notices: dict[int, list[PageNotice]] = {page.pk: [] for page in pages}
    for notice in PageNotice.objects.filter(page__in=pages).order_by("id"):
        if (notice.page_id, notice.step, notice.repetition) in current:
            notices[notice.page_id].append(notice)
    messages, fired = [], []
    for page in pages:
        messages += _messages(page, notices[page.pk], directory)
        fired.append(events.StepFired(page=page, notified=tuple(
            directory.user(n.user_id) for n in notices[page.pk]), note=notes[page.pk]))
        page.token = uuid.uuid4()
        page.due_at = now + timedelta(minutes=page.snapshot["steps"][page.step]["wait_minutes"])
    notifications_queue_many(messages)
    publish(events.PageStepsFired(at=now, fired=tuple(fired)))
    update_many(Page, pages, ["step", "repetition", "token", "due_at"])
    if schedule:
        transaction.on_commit(partial(_schedule, [(p.pk, p.token, p.due_at) for p in pages]))


def _messages(page: Page, notices: list[PageNotice], directory: Directory) -> list[Message]:
    """One message per person notified and rung of their ladder, keyed so it is written once."""
    incident = page.incident
    subject = f"[{page.get_urgency_display()}] {incident.number} P{incident.priority}: " \
              f"{incident.title}"
    key = f"page:{page.pk}:{page.step}:{page.repetition}"
    messages = []
    for notice in notices:
        body = (f"{page.reason}\n\nStep {page.step + 1} of {page.snapshot['name']}: "
                f"{notice.why}.\n\nAcknowledge: {_link('oncall:ack', notice.ack_token)}\n"
                f"Incident: {_link('incidents:detail', incident.number)}")
        person = [directory.user(notice.user_id)]
        messages += [Message(f"{key}:m{rung.method or rung.channel}", person, subject, body,
                             channel=rung.channel, address=rung.address, delay=rung.delay)
                     for rung in directory.ladder(notice.user_id, page.urgency)]
    return messages


def _schedule(steps: list[tuple[int, uuid.UUID, datetime]]) -> None:
    """Ask a worker to run each next step at its time; if the broker fails, the tick will."""
    from oncall.tasks import run_page_step

    for page_id, token, due_at in steps:
        try:
            run_page_step.apply_async((page_id, str(token)), eta=due_at)
        except Exception:  # noqa: BLE001 - any broker failure; the page is safe in the database
            log.warning("Broker unavailable: page %s waits for the tick", page_id)
            return


def _advance(pages: list[Page], now: datetime, directory: Directory, *,
             schedule: bool = True) -> None:
    """The wait is over and nobody acknowledged: run each page's next step, or give up."""
    running = []
    for page in pages:
        if page.step + 1 < len(page.snapshot["steps"]):
            page.step += 1
        elif page.repetition < page.snapshot["repeat"]:
            page.step, page.repetition = 0, page.repetition + 1
        else:
            _exhaust(page, now)
            continue
        running.append(page)
    if running:
        _run_steps(running, now, directory, schedule=schedule)


def _exhaust(page: Page, now: datetime) -> None:
    manager = User.objects.filter(pk=page.snapshot.get("manager")).first()
    incident = page.incident
    _end(page, now, PageState.EXHAUSTED, None,
         note=f"Nobody acknowledged; {manager or 'no manager'} was told.")
    _tell(f"page:{page.pk}:exhausted", [manager],
          f"Page exhausted: {incident.number} P{incident.priority}: {incident.title}",
          f"Every step of {page.snapshot['name']} ran {page.snapshot['repeat'] + 1} time(s) "
          f"and nobody acknowledged.\n\nIncident: "
          f"{_link('incidents:detail', incident.number)}")


def _end(page: Page, now: datetime, state: str, by: User | None, note: str = "") -> None:
    page.state, page.due_at, page.ended_at, page.token = state, None, now, uuid.uuid4()
    fields = ["state", "due_at", "ended_at", "token"]
    if state == PageState.ACKNOWLEDGED:
        page.acknowledged_at, page.acknowledged_by = now, by
        fields += ["acknowledged_at", "acknowledged_by"]
    page.save(update_fields=fields)
    # Later rungs of every step (an SMS two minutes after the in-app message) are withdrawn.
    notifications_cancel(key_prefix=f"page:{page.pk}:")
    publish(events.PageEnded(page=page, by=by, at=now, note=note))


def _locked(page_id: int) -> Page:
    return Page.objects.select_for_update(of=("self",)).select_related("incident") \
        .get(pk=page_id)


def page_run_step(*, page_id: int, token: str) -> bool:
    """The step task: run the page's next step if it is due and still the one scheduled."""
    with transaction.atomic():
        now = clock.now()
        page = _locked(page_id)
        if not page.is_active or str(page.token) != token or page.due_at > now:
            return False
        _advance([page], now, Directory())
        return True


@dataclass(frozen=True)
class TickResult:
    fired: int
    batches: int


def pages_tick(*, batch: int = 100, budget: timedelta = timedelta(seconds=12)) -> TickResult:
    """The watchdog: run every step that is due, whatever happened to its task.

    Claims due pages in batches with SKIP LOCKED, so two ticks (or a tick and a step task)
    never run the same step; each batch is one transaction. A page whose step this runs goes
    on at the tick's cadence (every 15 s) rather than by a task of its own.
    """
    started, fired, batches, directory = time.monotonic(), 0, 0, Directory()
    while time.monotonic() - started < budget.total_seconds():
        with transaction.atomic():
            now = clock.now()
            pages = list(Page.objects.select_for_update(of=("self",), skip_locked=True)
                         .select_related("incident")
                         .filter(state=PageState.ACTIVE, due_at__lte=now)
                         .order_by("due_at")[:batch])
            _advance(pages, now, directory, schedule=False)
        fired += len(pages)
        batches += 1
        if len(pages) < batch:
            break
    return TickResult(fired, batches)


def _check_ack(page: Page, by: User) -> None:
    if not incident_rules.is_agent(by):
        raise Forbidden("Only agents acknowledge pages.")
    if page.state == PageState.ACKNOWLEDGED:
        raise Conflict(f"Already acknowledged by {page.acknowledged_by or 'someone'}.")
    if not page.is_active:
        raise Conflict(f"This page has ended ({page.get_state_display().lower()}).")


@transaction.atomic
def page_acknowledge(*, page: Page, by: User) -> Page:
    """Stop the escalation: someone has it. Also the incident's first acknowledgement."""
    now = clock.now()
    page = _locked(page.pk)
    _check_ack(page, by)
    _end(page, now, PageState.ACKNOWLEDGED, by)
    incident = page.incident
    if incident.state == State.NEW and incident_rules.can_work(incident, by):
        from incidents.services import incident_acknowledge

        incident_acknowledge(incident=incident, by=by)
    return page


@transaction.atomic
def page_acknowledge_by_token(*, token: str) -> Page:
    """The link in a page message: acknowledges as the person it was sent to, once."""
    notice = (PageNotice.objects.select_for_update(of=("self",)).select_related("user", "page")
              .filter(ack_token=token).first())
    if notice is None:
        raise InvalidInput("This acknowledgement link is not valid.")
    if notice.used_at is not None:
        raise Conflict("This link was already used.")
    notice.used_at = clock.now()
    notice.save(update_fields=["used_at"])
    return page_acknowledge(page=notice.page, by=notice.user)


@transaction.atomic
def page_resolve(*, page: Page, by: User | None, note: str = "") -> Page:
    """End a page without an acknowledgement (its incident was resolved, or by hand)."""
    page = _locked(page.pk)
    if by is not None and not incident_rules.is_agent(by):
        raise Forbidden("Only agents end pages.")
    if not page.is_active:
        raise Conflict(f"This page has ended ({page.get_state_display().lower()}).")
    _end(page, clock.now(), PageState.RESOLVED, by, note=note)
    return page


def pages_end_for(incident: Incident, *, by: User | None, acknowledged: bool, note: str) -> None:
    """The incident moved on (acknowledged, resolved, canceled, handed away): stop its page."""
    page = Page.objects.filter(incident=incident, state=PageState.ACTIVE).first()
    if page is None:
        return
    page = _locked(page.pk)
    if page.is_active:
        _end(page, clock.now(), PageState.ACKNOWLEDGED if acknowledged else PageState.RESOLVED,
             by, note=note)
