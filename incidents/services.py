"""Every write to an incident: one transaction each, locked, versioned, and published as one
event (`incidents.events`) that the timeline, notifications and later subscribers record.

Callers (views, API, admin, tasks, commands) pass the `version` they showed the user; a stale
version raises `Conflict` so nobody silently overwrites someone else's work. Each action's
rule lives in `incidents.guards` and is checked here, under the row lock; the list of actions
the UI and the API offer is `incidents.actions`. The time comes from `itsm.clock`.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from incidents import events, guards, rules
from incidents.choices import Channel, HoldReason, Level, Priority, ResolutionCode, State
from incidents.models import (
    Category,
    Incident,
    PriorityMatrix,
    RoutingRule,
    TimelineEntry,
)
from itsm import clock
from itsm.choices import Criticality
from itsm.events import publish
from itsm.exceptions import Conflict, Forbidden, InvalidInput
from itsm.models import DeskSettings, Service, Team, User

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


def matching_rule(*, category: Category | None, subcategory: Category | None,
                  service: Service | None) -> RoutingRule | None:
    """The first active rule (lowest position) matching the category (or its parent) and
    service; a rule's empty category or service matches anything."""
    categories = [c.pk for c in (category, subcategory) if c]
    return (RoutingRule.objects.filter(active=True)
            .filter(Q(category=None) | Q(category__in=categories))
            .filter(Q(service=None) | Q(service=service))
            .select_related("team", "category__parent", "service").first())


def route(*, category: Category | None, subcategory: Category | None,
          service: Service | None) -> Team | None:
    """The matching rule's team, else the desk's default team (DeskSettings), else nobody."""
    rule = matching_rule(category=category, subcategory=subcategory, service=service)
    return rule.team if rule else DeskSettings.load().routing_team


def next_incident_number() -> str:
    """`INC` + the next value of a database sequence: unique under concurrent creation."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('incident_number_seq')")
        (value,) = cursor.fetchone()
    return f"INC{value:07d}"


# --- helpers ---------------------------------------------------------------------------------

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


def _save(incident: Incident, at: datetime) -> Incident:
    incident.version += 1
    incident.updated_at = at
    incident.save()
    return incident


def _touch(incident: Incident, at: datetime) -> None:
    """Activity that re-sorts queues without a version bump (comments, manager alerts)."""
    Incident.objects.filter(pk=incident.pk).update(updated_at=at)


def _validate_category(category: Category | None, subcategory: Category | None) -> None:
    if category is not None and category.parent_id is not None:
        raise InvalidInput.field("category", "Choose a top-level category.")
    if subcategory is not None and subcategory.parent_id != getattr(category, "pk", None):
        raise InvalidInput.field("subcategory", "This subcategory does not belong to the category.")
    for name, value in (("category", category), ("subcategory", subcategory)):
        if value is not None and not value.active:
            raise InvalidInput.field(name, f"{value} is no longer in use.")


def _validate_choice(name: str, value: str, choices) -> None:
    if value not in choices.values:
        raise InvalidInput.field(name, f"{name.title()} must be one of "
                                       f"{', '.join(choices.values)}.")


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
    at = clock.now()
    title = (title or "").strip()
    if not title:
        raise InvalidInput.field("title", "A short title is required.")
    _validate_choice("impact", impact, Level)
    _validate_choice("urgency", urgency, Level)
    _validate_choice("channel", channel, Channel)
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
        opened_at=opened_at or at,
        updated_at=at,
    )
    publish(events.Created(incident=incident, by=by, at=at,
                           chosen_team=assignment_team is not None))
    return incident


@transaction.atomic
def incident_update(*, incident: Incident, by: User, version: int | None = None,
                    **changes) -> Incident:
    """Edit the descriptive fields; priority follows impact, urgency and service."""
    at = clock.now()
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput.field(sorted(unknown)[0], "This field cannot be changed here.")
    incident = _lock(incident, version)
    guards.edit(incident, by)
    if "caller" in changes and changes["caller"] is None:
        raise InvalidInput.field("caller", "Choose the affected person.")
    if "title" in changes:
        changes["title"] = (changes["title"] or "").strip()[:200]
        if not changes["title"]:
            raise InvalidInput.field("title", "A short title is required.")
    for name, choices in (("impact", Level), ("urgency", Level), ("channel", Channel)):
        if name in changes:
            _validate_choice(name, changes[name], choices)
    _validate_category(changes.get("category", incident.category),
                       changes.get("subcategory", incident.subcategory))

    old = {name: getattr(incident, name) for name, value in changes.items()
           if getattr(incident, name) != value}
    for name in old:
        setattr(incident, name, changes[name])
    old_priority = incident.priority
    if {"impact", "urgency", "service"} & set(old) and not incident.priority_override_reason:
        incident.priority = priority_for(impact=incident.impact, urgency=incident.urgency,
                                         service=incident.service)
    if not old:
        return incident
    _save(incident, at)
    for name, value in old.items():
        publish(events.FieldChanged(incident=incident, by=by, at=at, field=name, old=value,
                                    new=getattr(incident, name)))
    if incident.priority != old_priority:
        publish(events.PriorityChanged(incident=incident, by=by, at=at, old=old_priority,
                                       new=incident.priority))
    return incident


@transaction.atomic
def incident_override_priority(*, incident: Incident, by: User, priority: int, reason: str,
                               version: int | None = None) -> Incident:
    """A manager sets the priority by hand, with a reason; the matrix no longer applies."""
    at = clock.now()
    if not rules.can_override_priority(by):
        raise Forbidden("Only managers can override the priority.")
    if priority not in Priority.values:
        raise InvalidInput.field("priority", "Priority must be 1, 2, 3 or 4.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.field("reason", "Say why the priority is overridden.")
    incident = _lock(incident, version)
    guards.override_priority(incident, by)
    if priority == incident.priority:
        raise InvalidInput.field("priority", f"{incident.number} is already "
                                             f"{incident.get_priority_display()}; choose another "
                                             "priority.")
    old = incident.priority
    incident.priority = priority
    incident.priority_override_reason = reason[:300]
    _save(incident, at)
    publish(events.PriorityChanged(incident=incident, by=by, at=at, old=old, new=priority,
                                   override=reason))
    return incident


# --- lifecycle -------------------------------------------------------------------------------

# Transitions that stamp a time on the incident (acknowledged_at, resolved_at, closed_at).
_TIMED = {"acknowledge", "resolve", "close", "cancel"}


def _transition(incident: Incident, by: User | None, name: str, version: int | None,
                note: str = "", **params) -> Incident:
    """Run one FSM transition under the row lock and publish it (by None: the system)."""
    at = clock.now()
    incident = _lock(incident, version)
    guards.TRANSITIONS[name](incident, by)
    from_state = incident.state
    getattr(incident, name)(**{"at": at, **params} if name in _TIMED else params)
    _save(incident, at)
    publish(events.Transitioned(incident=incident, by=by, at=at, transition=name,
                                from_state=from_state, to_state=incident.state, note=note))
    return incident


@transaction.atomic
def incident_acknowledge(*, incident: Incident, by: User, version: int | None = None) -> Incident:
    """Start work (new → in progress); the first acknowledgement time is kept for MTTA."""
    incident = _transition(incident, by, "acknowledge", version)
    if incident.assignee_id is None:
        # Acknowledging an unowned incident takes it, as in every desk agents know; a manager
        # working another team's incident leaves it to that team's members.
        team = incident.assignment_team or _first_team(by)
        if team is None or team.pk in rules.team_ids(by):
            return _assign(incident, by, team=team, assignee=by)
    return incident


@transaction.atomic
def incident_hold(*, incident: Incident, by: User, reason: str, note: str = "",
                  follow_up_at: datetime | None = None, version: int | None = None) -> Incident:
    """Pause work (in progress → on hold) for a named reason, with an optional note (awaiting
    the caller: the question they are asked) and an optional follow-up time for a reminder."""
    errors = {}
    if reason not in HoldReason.values:
        errors["reason"] = ["Choose why the incident is on hold."]
    if follow_up_at is not None and follow_up_at <= clock.now():
        errors["follow_up_at"] = ["Choose a follow-up time in the future."]
    if errors:
        raise InvalidInput("The hold is incomplete.", field_errors=errors)
    note = (note or "").strip()[:2000]
    label = HoldReason(reason).label
    incident = _transition(incident, by, "hold", version,
                           note=f"{label}: {note}" if note else label, reason=reason)
    if follow_up_at is not None:
        Incident.objects.filter(pk=incident.pk).update(follow_up_at=follow_up_at)
        incident.follow_up_at = follow_up_at
    return incident


def follow_ups_remind(*, limit: int = 500) -> int:
    """Put a reminder on the timeline of each on-hold incident whose follow-up time passed.

    The follow-up time is cleared by the same UPDATE that claims it, so two sweeps at once
    remind once; each reminder is its own transaction.
    """
    reminded = 0
    now = clock.now()
    for _ in range(limit):
        with transaction.atomic():
            incident = (Incident.objects.select_for_update(skip_locked=True)
                        .filter(follow_up_at__lte=now).order_by("follow_up_at").first())
            if incident is None:
                break
            due = incident.follow_up_at
            Incident.objects.filter(pk=incident.pk).update(follow_up_at=None)
            if incident.state == State.ON_HOLD:
                publish(events.FollowUpDue(incident=incident, by=None, at=now, due=due))
                reminded += 1
    return reminded


@transaction.atomic
def incident_resume(*, incident: Incident, by: User, version: int | None = None) -> Incident:
    """Resume work (on hold → in progress); a follow-up time still to come is dropped."""
    incident = _transition(incident, by, "resume", version)
    if incident.follow_up_at is not None:
        Incident.objects.filter(pk=incident.pk).update(follow_up_at=None)
        incident.follow_up_at = None
    return incident


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
    return _transition(incident, by, "resolve", version, note=notes.strip(), code=code,
                       notes=notes.strip())


@transaction.atomic
def incident_close(*, incident: Incident, by: User | None, version: int | None = None,
                   note: str = "") -> Incident:
    """Close a resolved incident: the caller confirms, an agent closes, or the system does."""
    return _transition(incident, by, "close", version, note=note)


@transaction.atomic
def incident_reopen(*, incident: Incident, by: User, reason: str = "",
                    version: int | None = None) -> Incident:
    """Reopen a resolved incident (counted); it goes back to in progress."""
    return _transition(incident, by, "reopen", version, note=(reason or "").strip())


@transaction.atomic
def incident_cancel(*, incident: Incident, by: User, reason: str,
                    version: int | None = None) -> Incident:
    """Cancel an open incident logged in error or duplicated; a reason is required."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.field("reason", "Say why the incident is canceled.")
    return _transition(incident, by, "cancel", version, note=reason, reason=reason[:300])


def incidents_auto_close(*, limit: int = 500) -> int:
    """Close incidents resolved more than INCIDENT_AUTO_CLOSE_DAYS ago; safe on two workers.

    Each incident is claimed with SKIP LOCKED and closed in its own transaction, so a second
    sweep running at the same time skips it and a crash loses at most one.
    """
    cutoff = clock.now() - timedelta(days=settings.INCIDENT_AUTO_CLOSE_DAYS)
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


def _assign(incident: Incident, by: User | None, *, team: Team | None, assignee: User | None,
            event: type[events.Assigned] = events.Assigned, note: str = "") -> Incident:
    if assignee is not None and team is not None and assignee.pk not in set(
        team.members.values_list("pk", flat=True)
    ):
        raise InvalidInput.field("assignee", f"{assignee} is not a member of {team}.")
    old_team, old_assignee = incident.assignment_team, incident.assignee
    if (old_team, old_assignee) == (team, assignee) and not note:
        return incident
    at = clock.now()
    incident.assignment_team, incident.assignee = team, assignee
    if team is not None:
        incident.escalation_tier = team.tier
    _save(incident, at)
    publish(event(incident=incident, by=by, at=at, old_team=old_team, old_assignee=old_assignee,
                  note=note))
    return incident


@transaction.atomic
def incident_assign(*, incident: Incident, by: User, team: Team | None,
                    assignee: User | None = None, version: int | None = None) -> Incident:
    """Assign to a team and optionally one of its members."""
    incident = _lock(incident, version)
    guards.assign(incident, by)
    if team is None and assignee is not None:
        team = incident.assignment_team or _first_team(assignee)
    return _assign(incident, by, team=team, assignee=assignee)


@transaction.atomic
def incident_assign_to_me(*, incident: Incident, by: User, version: int | None = None) -> Incident:
    """Take an open incident: it stays with its team if I am a member, else moves to my team."""
    incident = _lock(incident, version)
    guards.assign_to_me(incident, by)
    team = incident.assignment_team
    if team is None or team.pk not in rules.team_ids(by):
        team = _first_team(by) or team
    return _assign(incident, by, team=team, assignee=by)


def escalation_target(incident: Incident) -> Team | None:
    """Where functional escalation goes unless the agent picks another team: the service's
    owner team when someone else holds the incident, else the current team's next tier."""
    team = incident.assignment_team
    owner = incident.service.owner_team if incident.service else None
    if owner is not None and owner.active and owner != team:
        return owner
    return team.next_tier if team is not None and team.next_tier_id else None


@transaction.atomic
def incident_escalate(*, incident: Incident, by: User, reason: str, team: Team | None = None,
                      version: int | None = None) -> Incident:
    """Functional escalation: hand the incident to another team (by default
    `escalation_target`), unassigned, with the reason on its timeline."""
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = ["Say why another team should take it."]
    incident = _lock(incident, version)
    guards.escalate(incident, by)
    team = team or escalation_target(incident)
    if team is None:
        errors["team"] = ["Choose the team to hand it to."]
    elif not team.active:
        errors["team"] = [f"{team} is no longer in use."]
    elif team == incident.assignment_team:
        errors["team"] = [f"{incident.number} is already with {team}; choose another team."]
    if errors:
        raise InvalidInput("The escalation is incomplete.", field_errors=errors)
    return _assign(incident, by, team=team, assignee=None, event=events.Escalated, note=reason)


@transaction.atomic
def incident_notify_manager(*, incident: Incident, by: User, reason: str) -> Incident:
    """Hierarchical escalation: alert the assignment team's manager, on the timeline."""
    at = clock.now()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.field("reason", "Say what the manager should know.")
    incident = _lock(incident, None)  # never stale: it changes nothing the user edits
    guards.notify_manager(incident, by)
    publish(events.ManagerNotified(incident=incident, by=by, at=at,
                                   manager=incident.assignment_team.manager, reason=reason))
    _touch(incident, at)
    return incident


# --- conversation ----------------------------------------------------------------------------

@transaction.atomic
def incident_comment(*, incident: Incident, by: User, body: str,
                     internal: bool = False) -> TimelineEntry:
    """Add a public comment (seen by the caller) or an internal work note (agents only)."""
    at = clock.now()
    body = (body or "").strip()
    if not body:
        raise InvalidInput.field("body", "Write something first.")
    (guards.work_note if internal else guards.comment)(incident, by)
    results = publish(events.Commented(incident=incident, by=by, at=at, body=body,
                                       internal=internal))
    _touch(incident, at)  # queues re-sort by activity, and stale forms notice
    return next(r for r in results if isinstance(r, TimelineEntry))  # the timeline's row
