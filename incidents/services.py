"""Every write to an incident: one transaction each, locked, versioned and logged on the timeline.

Callers (views, API, admin, tasks, commands) pass the `version` they showed the user; a stale
version raises `Conflict` so nobody silently overwrites someone else's work.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import TransitionNotAllowed, has_transition_perm

from incidents import rules
from incidents.choices import (
    Channel,
    EntryKind,
    HoldReason,
    Level,
    Priority,
    ResolutionCode,
    State,
)
from incidents.models import Category, Incident, PriorityMatrix, RoutingRule, TimelineEntry
from itsm.choices import Criticality
from itsm.exceptions import Conflict, Forbidden, InvalidInput
from itsm.models import Service, Team, User
from itsm.notifications import notification_queue

# Fields an agent may edit directly; everything else moves through a dedicated service.
EDITABLE_FIELDS = ("title", "description", "caller", "channel", "service", "category",
                   "subcategory", "impact", "urgency")


# --- computed values -------------------------------------------------------------------------

def priority_for(*, impact: str, urgency: str, service: Service | None = None) -> int:
    """Priority from the matrix; a mission-critical service raises it one level (not above P1)."""
    cell = PriorityMatrix.objects.filter(impact=impact, urgency=urgency).first()
    priority = cell.priority if cell else Priority.P3
    if service is not None and service.criticality == Criticality.MISSION_CRITICAL:
        priority = max(Priority.P1, priority - 1)
    return int(priority)


def route(*, category: Category | None, subcategory: Category | None,
          service: Service | None) -> Team | None:
    """The team of the first active rule matching the category (or its parent) and service."""
    categories = [c.pk for c in (category, subcategory) if c]
    rules_ = RoutingRule.objects.filter(active=True).filter(
        Q(category=None) | Q(category__in=categories)
    ).filter(Q(service=None) | Q(service=service)).select_related("team")
    rule = rules_.first()
    return rule.team if rule else None


def next_incident_number() -> str:
    """`INC` + the next value of a database sequence: unique under concurrent creation."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('incident_number_seq')")
        (value,) = cursor.fetchone()
    return f"INC{value:07d}"


# --- helpers ---------------------------------------------------------------------------------

def _log(incident: Incident, by: User | None, kind: EntryKind, **fields) -> TimelineEntry:
    return TimelineEntry.objects.create(incident=incident, actor=by, kind=kind,
                                        at=timezone.now(), **fields)


def _display(incident: Incident, field: str) -> str:
    value = getattr(incident, field)
    if value is None or value == "":
        return ""
    display = getattr(incident, f"get_{field}_display", None)
    return str(display() if display else value)


def _lock(incident: Incident, version: int | None) -> Incident:
    """Re-read the row under a lock; refuse if the caller saw an older version."""
    locked = (Incident.objects.select_for_update(of=("self",))
              .select_related("assignment_team", "assignee", "caller", "service")
              .get(pk=incident.pk))
    if version is not None and locked.version != version:
        raise Conflict(
            f"{locked.number} was changed by someone else while you were looking at it "
            "(reload to see the latest version)."
        )
    return locked


def _save(incident: Incident) -> Incident:
    incident.version += 1
    incident.save()
    return incident


def _validate_category(category: Category | None, subcategory: Category | None) -> None:
    if category is not None and category.parent_id is not None:
        raise InvalidInput.field("category", "Choose a top-level category.")
    if subcategory is not None and subcategory.parent_id != getattr(category, "pk", None):
        raise InvalidInput.field("subcategory", "This subcategory does not belong to the category.")
    for name, value in (("category", category), ("subcategory", subcategory)):
        if value is not None and not value.active:
            raise InvalidInput.field(name, f"{value} is no longer in use.")


def _require_open(incident: Incident, doing: str) -> None:
    if not incident.is_open:
        raise Conflict(f"{incident.number} is {incident.get_state_display().lower()}; only open "
                       f"incidents can be {doing} (reopen it first).")


def _require_agent(by: User) -> None:
    if not rules.is_agent(by):
        raise Forbidden("Only agents can do this.")


def _require_worker(incident: Incident, by: User) -> None:
    if not rules.can_work(incident, by):
        raise Forbidden(f"You are not a member of {incident.assignment_team}, "
                        f"which owns {incident.number}.")


# --- create and edit -------------------------------------------------------------------------

@transaction.atomic
def incident_create(
    *,
    by: User,
    title: str,
    description: str = "",
    caller: User | None = None,
    channel: str = Channel.WEB,
    service: Service | None = None,
    category: Category | None = None,
    subcategory: Category | None = None,
    impact: str = Level.MEDIUM,
    urgency: str = Level.MEDIUM,
    assignment_team: Team | None = None,
    assignee: User | None = None,
    opened_at: datetime | None = None,
) -> Incident:
    """Log an incident: number it, compute its priority, route it and start its timeline.

    A requester always logs for themselves through the web; only agents set caller, team or
    assignee.
    """
    title = (title or "").strip()
    if not title:
        raise InvalidInput.field("title", "A short title is required.")
    if impact not in Level.values:
        raise InvalidInput.field("impact", f"Impact must be one of {', '.join(Level.values)}.")
    if urgency not in Level.values:
        raise InvalidInput.field("urgency", f"Urgency must be one of {', '.join(Level.values)}.")
    if channel not in Channel.values:
        raise InvalidInput.field("channel", f"Channel must be one of {', '.join(Channel.values)}.")
    _validate_category(category, subcategory)
    if not rules.is_agent(by):
        if caller not in (None, by) or assignment_team or assignee:
            raise Forbidden("Requesters log incidents for themselves only.")
        caller = by
    if assignee is not None and assignment_team is None:
        assignment_team = _first_team(assignee)
    if assignee is not None and (
        assignment_team is None or not assignee.teams.filter(pk=assignment_team.pk).exists()
    ):
        raise InvalidInput.field("assignee", f"{assignee} is not a member of {assignment_team}.")
    routed = assignment_team or route(category=category, subcategory=subcategory, service=service)

    incident = Incident.objects.create(
        number=next_incident_number(),
        title=title[:200],
        description=description or "",
        caller=caller or by,
        reported_by=by,
        channel=channel,
        service=service,
        category=category,
        subcategory=subcategory,
        impact=impact,
        urgency=urgency,
        priority=priority_for(impact=impact, urgency=urgency, service=service),
        assignment_team=routed,
        assignee=assignee,
        escalation_tier=routed.tier if routed else 1,
        opened_at=opened_at or timezone.now(),
    )
    if assignment_team is not None:  # chosen at intake: the first owner belongs on the record
        owner = f", assigned to {routed}" + (f" / {assignee}" if assignee else "")
    else:
        owner = f", routed to {routed}" if routed else ""
    _log(incident, by, EntryKind.CREATED, new_value=incident.get_priority_display(),
         body=f"Logged via {incident.get_channel_display()}{owner}")
    if assignee is not None and assignee != by:
        _notify_assignee(incident, by)
    return incident


@transaction.atomic
def incident_update(*, incident: Incident, by: User, version: int | None = None,
                    **changes) -> Incident:
    """Edit the descriptive fields; priority follows impact, urgency and service."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput.field(sorted(unknown)[0], "This field cannot be changed here.")
    _require_agent(by)
    incident = _lock(incident, version)
    _require_worker(incident, by)
    _require_open(incident, "edited")
    if "title" in changes:
        changes["title"] = (changes["title"] or "").strip()[:200]
        if not changes["title"]:
            raise InvalidInput.field("title", "A short title is required.")
    for name, choices in (("impact", Level), ("urgency", Level), ("channel", Channel)):
        if name in changes and changes[name] not in choices.values:
            raise InvalidInput.field(name, f"{name.title()} must be one of "
                                           f"{', '.join(choices.values)}.")
    _validate_category(changes.get("category", incident.category),
                       changes.get("subcategory", incident.subcategory))

    changed = [name for name, value in changes.items() if getattr(incident, name) != value]
    old = {name: _display(incident, name) for name in changed}
    for name in changed:
        setattr(incident, name, changes[name])
    if {"impact", "urgency", "service"} & set(changed) and not incident.priority_override_reason:
        changed.append("priority")
        old["priority"] = _display(incident, "priority")
        incident.priority = priority_for(impact=incident.impact, urgency=incident.urgency,
                                         service=incident.service)
    if not changed:
        return incident
    _save(incident)
    for name in changed:
        if old[name] != _display(incident, name):
            _log(incident, by, EntryKind.FIELD_CHANGE, field=name, old_value=old[name],
                 new_value=_display(incident, name))
    return incident


@transaction.atomic
def incident_override_priority(*, incident: Incident, by: User, priority: int, reason: str,
                               version: int | None = None) -> Incident:
    """A manager sets the priority by hand, with a reason; the matrix no longer applies."""
    if not rules.can_override_priority(by):
        raise Forbidden("Only managers can override the priority.")
    if priority not in Priority.values:
        raise InvalidInput.field("priority", "Priority must be 1, 2, 3 or 4.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.field("reason", "Say why the priority is overridden.")
    incident = _lock(incident, version)
    _require_open(incident, "reprioritised")
    old = incident.get_priority_display()
    incident.priority = priority
    incident.priority_override_reason = reason[:300]
    _save(incident)
    _log(incident, by, EntryKind.FIELD_CHANGE, field="priority", old_value=old,
         new_value=incident.get_priority_display(), body=f"Override: {reason}")
    return incident


# --- lifecycle -------------------------------------------------------------------------------

def _transition(incident: Incident, by: User, name: str, version: int | None,
                body: str = "", **params) -> Incident:
    """Run one FSM transition under the row lock and write it to the timeline."""
    incident = _lock(incident, version)
    method = getattr(incident, name)
    old_state = incident.get_state_display()
    if name not in {t.name for t in incident.get_available_state_transitions()}:
        raise Conflict(f"{incident.number} is {old_state.lower()}: it cannot be {VERBS[name]} now.")
    if not has_transition_perm(method, by):
        raise Forbidden(f"You may not {name} {incident.number}.")
    try:
        method(**params)
    except TransitionNotAllowed as exc:  # pragma: no cover - guarded above, kept for safety
        raise Conflict(str(exc)) from exc
    _save(incident)
    _log(incident, by, EntryKind.TRANSITION, field="state", old_value=old_state,
         new_value=incident.get_state_display(), body=body)
    return incident


VERBS = {"acknowledge": "acknowledged", "hold": "put on hold", "resume": "resumed",
         "resolve": "resolved", "close": "closed", "reopen": "reopened", "cancel": "canceled"}


@transaction.atomic
def incident_acknowledge(*, incident: Incident, by: User, version: int | None = None) -> Incident:
    """Start work (new → in progress); the first acknowledgement time is kept for MTTA."""
    incident = _transition(incident, by, "acknowledge", version, at=timezone.now())
    if incident.assignee_id is None:
        # Acknowledging an unowned incident takes it, as in every desk agents know; a manager
        # working another team's incident leaves it to that team's members.
        team = incident.assignment_team or _first_team(by)
        if team is None or team.pk in rules.team_ids(by):
            return _assign(incident, by, team=team, assignee=by)
    return incident


@transaction.atomic
def incident_hold(*, incident: Incident, by: User, reason: str,
                  version: int | None = None) -> Incident:
    """Pause work (in progress → on hold) for a named reason."""
    if reason not in HoldReason.values:
        raise InvalidInput.field("reason", "Choose why the incident is on hold.")
    return _transition(incident, by, "hold", version, body=HoldReason(reason).label,
                       reason=reason)


@transaction.atomic
def incident_resume(*, incident: Incident, by: User, version: int | None = None) -> Incident:
    """Resume work (on hold → in progress)."""
    return _transition(incident, by, "resume", version)


@transaction.atomic
def incident_resolve(*, incident: Incident, by: User, code: str, notes: str,
                     version: int | None = None) -> Incident:
    """Resolve (in progress → resolved) with a resolution code and notes; tells the caller."""
    errors = {}
    if code not in ResolutionCode.values:
        errors["code"] = ["Choose a resolution code."]
    if not (notes or "").strip():
        errors["notes"] = ["Say what was done to resolve it."]
    if errors:
        raise InvalidInput("The resolution is incomplete.", field_errors=errors)
    incident = _transition(incident, by, "resolve", version, body=notes.strip(),
                           at=timezone.now(), code=code, notes=notes.strip())
    if incident.caller != by:
        notification_queue(
            recipients=[incident.caller],
            subject=f"[{incident.number}] Resolved: {incident.title}",
            body=f"Your incident was resolved ({incident.get_resolution_code_display()}):\n\n"
                 f"{incident.resolution_notes}\n\nIf it is not fixed, reopen it; otherwise it "
                 f"closes by itself after {settings.INCIDENT_AUTO_CLOSE_DAYS} days.",
        )
    return incident


@transaction.atomic
def incident_close(*, incident: Incident, by: User | None, version: int | None = None,
                   note: str = "") -> Incident:
    """Close a resolved incident: the caller confirms, an agent closes, or the system does."""
    if by is None:  # the auto-close sweep acts as the system
        incident = _lock(incident, version)
        old_state = incident.get_state_display()
        incident.close(at=timezone.now())
        _save(incident)
        _log(incident, None, EntryKind.TRANSITION, field="state", old_value=old_state,
             new_value=incident.get_state_display(), body=note)
        return incident
    return _transition(incident, by, "close", version, body=note, at=timezone.now())


@transaction.atomic
def incident_reopen(*, incident: Incident, by: User, reason: str = "",
                    version: int | None = None) -> Incident:
    """Reopen a resolved incident (counted); it goes back to in progress."""
    return _transition(incident, by, "reopen", version, body=(reason or "").strip())


@transaction.atomic
def incident_cancel(*, incident: Incident, by: User, reason: str,
                    version: int | None = None) -> Incident:
    """Cancel an open incident logged in error or duplicated; a reason is required."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.field("reason", "Say why the incident is canceled.")
    return _transition(incident, by, "cancel", version, body=reason, at=timezone.now(),
                       reason=reason[:300])


TRANSITIONS = {
    "acknowledge": incident_acknowledge,
    "hold": incident_hold,
    "resume": incident_resume,
    "resolve": incident_resolve,
    "close": incident_close,
    "reopen": incident_reopen,
    "cancel": incident_cancel,
}


def incidents_auto_close(*, now: datetime | None = None, limit: int = 500) -> int:
    """Close incidents resolved more than INCIDENT_AUTO_CLOSE_DAYS ago; safe on two workers.

    Each incident is claimed with SKIP LOCKED and closed in its own transaction, so a second
    sweep running at the same time skips it and a crash loses at most one.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.INCIDENT_AUTO_CLOSE_DAYS)
    closed = 0
    for _ in range(limit):
        with transaction.atomic():
            incident = (Incident.objects.select_for_update(skip_locked=True)
                        .filter(state=State.RESOLVED, resolved_at__lte=cutoff)
                        .order_by("resolved_at").first())
            if incident is None:
                break
            incident_close(incident=incident, by=None,
                           note=f"Closed automatically {settings.INCIDENT_AUTO_CLOSE_DAYS} days "
                                "after resolution.")
            closed += 1
    return closed


# --- assignment and escalation ---------------------------------------------------------------

def _first_team(user: User) -> Team | None:
    return user.teams.order_by("tier", "name").first()


def _notify_assignee(incident: Incident, by: User | None) -> None:
    notification_queue(
        recipients=[incident.assignee],
        subject=f"[{incident.number}] Assigned to you: {incident.title}",
        body=f"{by or 'The service desk'} assigned {incident.number} "
             f"({incident.get_priority_display()}) to you.",
    )


def _assign(incident: Incident, by: User | None, *, team: Team | None,
            assignee: User | None, kind: EntryKind = EntryKind.ASSIGNMENT,
            body: str = "") -> Incident:
    if assignee is not None and team is not None and assignee.pk not in set(
        team.members.values_list("pk", flat=True)
    ):
        raise InvalidInput.field("assignee", f"{assignee} is not a member of {team}.")
    old = (str(incident.assignment_team or "—"), str(incident.assignee or "—"))
    if (incident.assignment_team, incident.assignee) == (team, assignee) and not body:
        return incident
    incident.assignment_team, incident.assignee = team, assignee
    if team is not None:
        incident.escalation_tier = team.tier
    _save(incident)
    new = (str(team or "—"), str(assignee or "—"))
    _log(incident, by, kind, field="assignment", old_value=" / ".join(old),
         new_value=" / ".join(new), body=body)
    if assignee is not None and assignee != by:
        _notify_assignee(incident, by)
    return incident


@transaction.atomic
def incident_assign(*, incident: Incident, by: User, team: Team | None,
                    assignee: User | None = None, version: int | None = None) -> Incident:
    """Assign to a team and optionally one of its members."""
    _require_agent(by)
    incident = _lock(incident, version)
    _require_worker(incident, by)
    _require_open(incident, "reassigned")
    if team is None and assignee is not None:
        team = incident.assignment_team or _first_team(assignee)
    return _assign(incident, by, team=team, assignee=assignee)


@transaction.atomic
def incident_assign_to_me(*, incident: Incident, by: User, version: int | None = None) -> Incident:
    """Take an incident: it stays with its team if I am a member, else moves to my team."""
    _require_agent(by)
    locked = _lock(incident, version)
    _require_worker(locked, by)
    team = locked.assignment_team
    if team is None or team.pk not in rules.team_ids(by):
        team = _first_team(by) or team
    return _assign(locked, by, team=team, assignee=by)


@transaction.atomic
def incident_escalate(*, incident: Incident, by: User, reason: str,
                      version: int | None = None) -> Incident:
    """Functional escalation: hand the incident to the next-tier team of its current team."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.field("reason", "Say why the incident needs the next tier.")
    _require_agent(by)
    incident = _lock(incident, version)
    _require_worker(incident, by)
    _require_open(incident, "escalated")
    team = incident.assignment_team
    if team is None or team.next_tier_id is None:
        raise Conflict(f"{team or 'An unassigned incident'} has no next-tier team to escalate to.")
    incident = _assign(incident, by, team=team.next_tier, assignee=None,
                       kind=EntryKind.ESCALATION, body=reason)
    notification_queue(
        recipients=[*team.next_tier.members.all()],
        subject=f"[{incident.number}] Escalated to {team.next_tier}: {incident.title}",
        body=f"{by} escalated {incident.number} ({incident.get_priority_display()}) from "
             f"{team} to {team.next_tier}.\n\nReason: {reason}",
    )
    return incident


@transaction.atomic
def incident_notify_manager(*, incident: Incident, by: User, reason: str) -> Incident:
    """Hierarchical escalation: alert the assignment team's manager, on the timeline."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.field("reason", "Say what the manager should know.")
    _require_agent(by)
    team = incident.assignment_team
    if team is None or team.manager is None:
        raise Conflict(f"{team or 'An unassigned incident'} has no manager to notify.")
    notification_queue(
        recipients=[team.manager],
        subject=f"[{incident.number}] Needs your attention: {incident.title}",
        body=f"{by} raised {incident.number} ({incident.get_priority_display()}, "
             f"{incident.get_state_display()}) to you as manager of {team}.\n\n{reason}",
    )
    _log(incident, by, EntryKind.NOTIFICATION, new_value=str(team.manager), body=reason)
    # Like a comment: activity that re-sorts queues, without a version bump.
    Incident.objects.filter(pk=incident.pk).update(updated_at=timezone.now())
    return incident


# --- conversation ----------------------------------------------------------------------------

@transaction.atomic
def incident_comment(*, incident: Incident, by: User, body: str,
                     internal: bool = False) -> TimelineEntry:
    """Add a public comment (seen by the caller) or an internal work note (agents only)."""
    body = (body or "").strip()
    if not body:
        raise InvalidInput.field("body", "Write something first.")
    if not rules.can_view(incident, by):
        raise Forbidden("You cannot comment on this incident.")
    if internal and not rules.is_agent(by):
        raise Forbidden("Only agents can write work notes.")
    kind = EntryKind.WORK_NOTE if internal else EntryKind.COMMENT
    entry = _log(incident, by, kind, body=body)
    # Touch the row so queues re-sort by activity and stale forms notice.
    Incident.objects.filter(pk=incident.pk).update(updated_at=timezone.now())
    if not internal and by != incident.caller and incident.caller.email:
        notification_queue(recipients=[incident.caller],
                           subject=f"[{incident.number}] New comment: {incident.title}",
                           body=f"{by} wrote:\n\n{body}")
    return entry
