"""Every write to problems, known errors and articles: one transaction each, locked,
versioned, published as one event (`problems.events`) for the timelines and notifications.

As for incidents, callers pass the `version` they showed; a stale one raises `Conflict`.
"""

from collections.abc import Iterable

from django.db import connection, transaction

from incidents import services as incident_services
from incidents.choices import HoldReason, Level, ResolutionCode, State
from incidents.models import Category, Incident
from incidents.rules import is_agent
from itsm import clock
from itsm.events import publish
from itsm.exceptions import Conflict, InvalidInput, ServiceError
from itsm.models import Service, Team, User
from problems import events, guards
from problems.choices import ArticleKind, Audience, KnowledgeStatus, SuggestionStatus
from problems.models import (
    Article,
    KnowledgeRecord,
    KnownError,
    Problem,
    ProblemLink,
    SuggestedProblem,
    Why,
    WorkaroundApplication,
)

EDITABLE_FIELDS = ("title", "description", "service", "category", "impact", "urgency", "owner",
                   "assignment_team", "root_cause", "contributing_factors", "workaround",
                   "permanent_fix", "change_reference")
MAX_WHYS = 10
MAX_LINKS_AT_ONCE = 200


def _next_number(sequence: str, prefix: str) -> str:
    """Prefix + the next value of a database sequence: unique under concurrent creation."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [sequence])
        (value,) = cursor.fetchone()
    return f"{prefix}{value:07d}"


def _lock(problem: Problem, version: int | None) -> Problem:
    locked = (Problem.objects.select_for_update(of=("self",))
              .select_related("owner", "assignment_team", "service", "category")
              .get(pk=problem.pk))
    if version is not None and locked.version != version:
        raise Conflict(f"{locked.number} was changed by someone else while you were looking at "
                       "it (reload to see the latest version).")
    return locked


def _save(problem: Problem, at) -> Problem:
    problem.version += 1
    problem.updated_at = at
    problem.save()
    return problem


def _text(value, name: str, *, required: bool = False, limit: int | None = None) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput.field(name, "This field is required.")
    if limit and len(value) > limit:
        raise InvalidInput.field(name, f"At most {limit} characters.")
    return value


def _check_fields(changes: dict) -> dict:
    """Validate what a create or an edit sets; returns the cleaned values."""
    clean = dict(changes)
    for name in ("impact", "urgency"):
        if name in clean and clean[name] not in Level.values:
            raise InvalidInput.field(name, f"{name.title()} must be one of "
                                           f"{', '.join(Level.values)}.")
    if "title" in clean:
        clean["title"] = _text(clean["title"], "title", required=True, limit=200)
    if "change_reference" in clean:
        clean["change_reference"] = _text(clean["change_reference"], "change_reference",
                                          limit=60)
    for name in ("description", "root_cause", "contributing_factors", "workaround",
                 "permanent_fix"):
        if name in clean:
            clean[name] = (clean[name] or "").strip()
    category = clean.get("category")
    if category is not None and category.parent_id is not None:
        raise InvalidInput.field("category", "Choose a top-level category.")
    owner = clean.get("owner")
    if owner is not None and not (owner.is_active and is_agent(owner)):
        raise InvalidInput.field("owner", f"{owner} is not an active agent.")
    return clean


# --- problems --------------------------------------------------------------------------------

@transaction.atomic
def problem_create(*, by: User, title: str = "", description: str = "",
                   service: Service | None = None, category: Category | None = None,
                   impact: str = Level.MEDIUM, urgency: str = Level.MEDIUM,
                   owner: User | None = None, assignment_team: Team | None = None,
                   incidents: Iterable[Incident] = (),
                   suggestion: SuggestedProblem | None = None) -> Problem:
    """Log a problem, optionally raised from incidents (linked at once) or a suggestion.

    Left empty, the title, service, category and team come from the first incident.
    """
    guards.agent(by)
    at = clock.now()
    incidents = list(incidents)
    if len(incidents) > MAX_LINKS_AT_ONCE:
        raise InvalidInput.field("incidents", f"At most {MAX_LINKS_AT_ONCE} incidents at once.")
    if suggestion is not None:
        # Locked and checked: two managers converting it at once make one problem, not two
        # (the second would take every incident from the first).
        suggestion = SuggestedProblem.objects.select_for_update().get(pk=suggestion.pk)
        if suggestion.status != SuggestionStatus.OPEN:
            raise Conflict(f"This suggestion is already "
                           f"{suggestion.get_status_display().lower()}.")
        incidents += [i for i in suggestion.incidents.all() if i not in incidents]
    first = incidents[0] if incidents else None
    data = _check_fields({
        "title": title or (first.title if first else ""), "description": description,
        "service": service or (first.service if first else None),
        "category": category or (first.category if first else None),
        "impact": impact, "urgency": urgency, "owner": owner,
    })
    problem = Problem.objects.create(
        number=_next_number("problem_number_seq", "PRB"), **data,
        priority=incident_services.priority_for(impact=data["impact"], urgency=data["urgency"],
                                                service=data["service"]),
        assignment_team=assignment_team or (first.assignment_team if first else None),
        created_by=by, opened_at=at, updated_at=at)
    publish(events.ProblemCreated(problem=problem, by=by, at=at))
    if incidents:
        _link(problem, by, incidents, at)
    if suggestion is not None:
        SuggestedProblem.objects.filter(pk=suggestion.pk).update(
            status=SuggestionStatus.CONVERTED, problem=problem, updated_at=at)
    return problem


@transaction.atomic
def problem_update(*, problem: Problem, by: User, version: int | None = None,
                   **changes) -> Problem:
    """Edit fields; priority follows impact, urgency and service, as for incidents."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput.field(sorted(unknown)[0], "This field cannot be changed here.")
    at = clock.now()
    problem = _lock(problem, version)
    guards.edit(problem, by)
    changes = _check_fields(changes)
    old = {name: getattr(problem, name) for name, value in changes.items()
           if getattr(problem, name) != value}
    for name in old:
        setattr(problem, name, changes[name])
    if {"impact", "urgency", "service"} & set(old):
        priority = incident_services.priority_for(impact=problem.impact, urgency=problem.urgency,
                                                  service=problem.service)
        if priority != problem.priority:
            old["priority"], problem.priority = problem.priority, priority
    if not old:
        return problem
    _save(problem, at)
    for name, value in old.items():
        publish(events.ProblemFieldChanged(problem=problem, by=by, at=at, field=name, old=value,
                                           new=getattr(problem, name)))
    return problem


@transaction.atomic
def problem_save_whys(*, problem: Problem, by: User, whys: list[tuple[str, str]],
                      version: int | None = None) -> Problem:
    """Replace the 5 Whys chain with these (question, answer) pairs, in order.

    Empty pairs are dropped; an answer needs its question.
    """
    at = clock.now()
    problem = _lock(problem, version)
    guards.edit(problem, by)
    chain = []
    for index, (question, answer) in enumerate(whys, start=1):
        question, answer = (question or "").strip(), (answer or "").strip()
        if not question and not answer:
            continue
        if not question:
            raise InvalidInput.field("whys", f"Why {index} has an answer but no question.")
        if len(question) > 300:
            raise InvalidInput.field("whys", f"Why {index}: at most 300 characters a question.")
        chain.append((question, answer))
    if len(chain) > MAX_WHYS:
        raise InvalidInput.field("whys", f"At most {MAX_WHYS} whys.")
    old = [(w.question, w.answer) for w in problem.whys.order_by("position")]
    if old == chain:
        return problem
    problem.whys.all().delete()
    Why.objects.bulk_create(Why(problem=problem, position=i, question=q, answer=a)
                            for i, (q, a) in enumerate(chain, start=1))
    _save(problem, at)
    publish(events.WhysChanged(problem=problem, by=by, at=at, old=old, new=chain))
    return problem


def _check_transition(problem: Problem, name: str, note: str,
                      duplicate_of: Problem | None) -> dict:
    """What a transition needs besides its state and permission; returns its parameters."""
    if name == "start_fix" and not problem.root_cause:
        raise InvalidInput.field("root_cause", "Record the root cause before starting the fix.")
    if name == "resolve" and not problem.permanent_fix:
        raise InvalidInput.field("permanent_fix", "Describe the permanent fix before resolving.")
    if name in ("reanalyze", "cancel", "accept_risk") and not note:
        raise InvalidInput.field("note", {"reanalyze": "Say why the cause needs another look.",
                                          "cancel": "Say why the problem is canceled.",
                                          "accept_risk": "Say why the risk is accepted and who "
                                                         "accepted it."}[name])
    if name == "mark_duplicate":
        if duplicate_of is None:
            raise InvalidInput.field("duplicate_of", "Name the problem this one duplicates.")
        if duplicate_of.pk == problem.pk:
            raise InvalidInput.field("duplicate_of", "A problem cannot duplicate itself.")
        if duplicate_of.state in guards.FINISHED:
            raise InvalidInput.field("duplicate_of", f"{duplicate_of.number} is "
                                     f"{duplicate_of.get_state_display().lower()}; name the "
                                     "problem still being worked.")
        return {"of": duplicate_of}
    return {"note": note} if name in ("close", "reanalyze", "cancel", "accept_risk") else {}


_TIMED = {"resolve", "close", "cancel", "mark_duplicate", "accept_risk"}


@transaction.atomic
def problem_transition(*, problem: Problem, by: User, name: str, version: int | None = None,
                       note: str = "", duplicate_of: Problem | None = None) -> Problem:
    """Move a problem through its lifecycle (`problems.models.Problem`'s transitions).

    Marking a duplicate moves its incidents to the problem it duplicates.
    """
    if name not in guards.TRANSITIONS:
        raise InvalidInput.field("transition", f"No transition {name!r}.")
    at = clock.now()
    if duplicate_of is not None:  # both rows locked, lowest id first (no deadlock)
        for pk in sorted({problem.pk, duplicate_of.pk}):
            Problem.objects.select_for_update(of=("self",)).filter(pk=pk).first()
        duplicate_of.refresh_from_db()
    problem = _lock(problem, version)
    guards.TRANSITIONS[name](problem, by)
    note = _text(note, "note", limit=2000)
    params = _check_transition(problem, name, note, duplicate_of)
    from_state = problem.state
    getattr(problem, name)(**({"at": at, **params} if name in _TIMED else params))
    _save(problem, at)
    publish(events.ProblemTransitioned(problem=problem, by=by, at=at, transition=name,
                                       from_state=from_state, to_state=problem.state,
                                       note=note or (f"Duplicate of {duplicate_of.number}"
                                                     if duplicate_of else "")))
    if name == "mark_duplicate":
        moved = [link.incident for link in problem.links.select_related("incident")]
        if moved:
            original = _lock(duplicate_of, None)
            _link(original, by, moved, at, note=f"Moved from duplicate {problem.number}")
    return problem


def _link(problem: Problem, by: User, incidents: list[Incident], at, note: str = "") -> list:
    """Link incidents (moving any linked elsewhere); returns those that changed.

    The incidents' rows are locked first, in id order: two people linking one incident to two
    problems at once take turns, and the second moves it (instead of failing on its unique
    link).
    """
    list(Incident.objects.select_for_update(of=("self",)).filter(
        pk__in=[i.pk for i in incidents]).order_by("pk").values_list("pk", flat=True))
    current = {link.incident_id: link for link in
               ProblemLink.objects.filter(incident__in=incidents).select_related("problem")}
    changed, moved_from = [], {}
    for incident in incidents:
        link = current.get(incident.pk)
        if link is not None and link.problem_id == problem.pk:
            continue
        if link is not None:
            moved_from[incident.number] = link.problem.number
            link.delete()
        ProblemLink.objects.create(problem=problem, incident=incident, linked_by=by, linked_at=at)
        changed.append(incident)
    if changed:
        publish(events.IncidentsLinked(problem=problem, by=by, at=at, incidents=changed,
                                       note=note or "; ".join(
                                           f"{n} moved from {p}" for n, p in moved_from.items())))
    return changed


@transaction.atomic
def problem_link_incidents(*, problem: Problem, by: User,
                           incidents: Iterable[Incident]) -> list[Incident]:
    """Link incidents to the problem; an incident linked to another problem moves here."""
    incidents = list(incidents)
    if not incidents:
        raise InvalidInput.field("incidents", "Name at least one incident.")
    if len(incidents) > MAX_LINKS_AT_ONCE:
        raise InvalidInput.field("incidents", f"At most {MAX_LINKS_AT_ONCE} incidents at once.")
    problem = _lock(problem, None)  # never stale: linking changes nothing the user edits
    guards.link(problem, by)
    return _link(problem, by, incidents, clock.now())


@transaction.atomic
def problem_unlink_incident(*, problem: Problem, by: User, incident: Incident) -> None:
    problem = _lock(problem, None)
    guards.unlink(problem, by)
    deleted, _ = ProblemLink.objects.filter(problem=problem, incident=incident).delete()
    if not deleted:
        raise InvalidInput.field("incident", f"{incident.number} is not linked to "
                                             f"{problem.number}.")
    publish(events.IncidentsLinked(problem=problem, by=by, at=clock.now(), incidents=[incident],
                                   unlinked=True))


def awaiting_incidents(problem: Problem):
    """Linked incidents on hold "awaiting problem": what the fix resolves in one action."""
    return Incident.objects.filter(problem_link__problem=problem, state=State.ON_HOLD,
                                   hold_reason=HoldReason.AWAITING_PROBLEM).order_by("number")


def problem_resolve_incidents(*, problem: Problem, by: User,
                              notes: str = "") -> events.LinkedIncidentsResolved:
    """The fix landed: resume and resolve every linked incident awaiting the problem.

    Each incident in its own transaction, through the incident services (so its own guards,
    timeline, SLA clocks and caller notification apply); one refused never blocks the others.
    Returns the event, with what was resolved and what was refused and why.
    """
    with transaction.atomic():
        problem = _lock(problem, None)
        guards.resolve_incidents(problem, by)
    notes = (notes or "").strip() or (f"Fixed by {problem.number}: "
                                      f"{problem.permanent_fix or problem.title}")
    resolved, refused = [], {}
    for incident in awaiting_incidents(problem):
        try:
            with transaction.atomic():
                incident = incident_services.incident_resume(incident=incident, by=by)
                incident_services.incident_resolve(incident=incident, by=by,
                                                   code=ResolutionCode.FIXED, notes=notes)
        except ServiceError as exc:
            refused[incident.number] = exc.message
        else:
            resolved.append(incident)
    if not resolved and not refused:
        raise Conflict(f"No incident linked to {problem.number} is on hold awaiting it.")
    with transaction.atomic():
        event = events.LinkedIncidentsResolved(problem=problem, by=by, at=clock.now(),
                                               incidents=resolved, refused=refused)
        publish(event)
    return event


@transaction.atomic
def problem_note(*, problem: Problem, by: User, body: str) -> None:
    """An internal note on the problem's timeline."""
    guards.note(problem, by)
    body = _text(body, "body", required=True, limit=10000)
    publish(events.ProblemNoted(problem=problem, by=by, at=clock.now(), body=body))
    Problem.objects.filter(pk=problem.pk).update(updated_at=clock.now())


# --- known errors and articles ---------------------------------------------------------------

KNOWN_ERROR_FIELDS = ("title", "symptoms", "root_cause", "workaround", "services", "categories")
ARTICLE_FIELDS = ("title", "kind", "audience", "symptoms", "body", "steps", "services",
                  "categories")
_REQUIRED = {KnownError: ("title", "symptoms", "workaround"), Article: ("title", "body")}


def _check_knowledge(model, data: dict) -> dict:
    clean = dict(data)
    for name in ("title", "symptoms", "root_cause", "workaround", "body", "steps"):
        if name in clean:
            clean[name] = _text(clean[name], name, required=name in _REQUIRED[model],
                                limit=200 if name == "title" else 50000)
    for name, choices in (("kind", ArticleKind), ("audience", Audience)):
        if name in clean and clean[name] not in choices.values:
            raise InvalidInput.field(name, f"Choose one of {', '.join(choices.values)}.")
    for category in clean.get("categories") or ():
        if category.parent_id is not None:
            raise InvalidInput.field("categories", "Choose top-level categories.")
    return clean


def _knowledge_create(model, *, by: User, sequence: str, prefix: str, data: dict):
    guards.agent(by)
    missing = [name for name in _REQUIRED[model] if not (data.get(name) or "").strip()]
    if missing:
        raise InvalidInput("Some required fields are empty.",
                           field_errors={name: ["This field is required."] for name in missing})
    data = _check_knowledge(model, data)
    services, categories = data.pop("services", ()), data.pop("categories", ())
    at = clock.now()
    record = model.objects.create(number=_next_number(sequence, prefix), created_by=by,
                                  created_at=at, updated_at=at, **data)
    record.services.set(services)
    record.categories.set(categories)
    return record


def _knowledge_lock(record: KnowledgeRecord, version: int | None) -> KnowledgeRecord:
    locked = type(record).objects.select_for_update().get(pk=record.pk)
    if version is not None and locked.version != version:
        raise Conflict(f"{locked.number} was changed by someone else while you were looking at "
                       "it (reload to see the latest version).")
    return locked


def _knowledge_update(record: KnowledgeRecord, *, by: User, version: int | None,
                      fields: tuple, changes: dict) -> KnowledgeRecord:
    unknown = set(changes) - set(fields)
    if unknown:
        raise InvalidInput.field(sorted(unknown)[0], "This field cannot be changed here.")
    guards.agent(by)
    record = _knowledge_lock(record, version)
    if record.status != KnowledgeStatus.DRAFT:
        guards.manager(by)  # what agents already rely on changes only with a manager
    changes = _check_knowledge(type(record), changes)
    for name in _REQUIRED[type(record)]:
        if name in changes and not changes[name]:
            raise InvalidInput.field(name, "This field is required.")
    services, categories = changes.pop("services", None), changes.pop("categories", None)
    for name, value in changes.items():
        setattr(record, name, value)
    record.version += 1
    record.updated_at = clock.now()
    record.save()
    if services is not None:
        record.services.set(services)
    if categories is not None:
        record.categories.set(categories)
    return record


@transaction.atomic
def known_error_create(*, by: User, problem: Problem | None = None, **data) -> KnownError:
    """Record a known error as a draft (agents); problem managers publish it."""
    unknown = set(data) - set(KNOWN_ERROR_FIELDS)
    if unknown:
        raise InvalidInput.field(sorted(unknown)[0], "This field cannot be set here.")
    return _knowledge_create(KnownError, by=by, sequence="known_error_number_seq",
                             prefix="KE", data={**data, "problem": problem})


@transaction.atomic
def known_error_from_problem(*, problem: Problem, by: User) -> KnownError:
    """A draft known error with the problem's root cause and workaround (and its links)."""
    problem = _lock(problem, None)
    guards.work(problem, by)
    if not problem.workaround:
        raise InvalidInput.field("workaround", f"Record {problem.number}'s workaround first: it "
                                               "is what the known error tells agents to do.")
    known_error = _knowledge_create(KnownError, by=by, sequence="known_error_number_seq",
                                    prefix="KE", data={
        "title": problem.title, "symptoms": problem.description or problem.title,
        "root_cause": problem.root_cause, "workaround": problem.workaround, "problem": problem,
        "services": [problem.service] if problem.service else [],
        "categories": [problem.category] if problem.category else []})
    publish(events.KnownErrorRaised(problem=problem, by=by, at=clock.now(),
                                    known_error=known_error))
    return known_error


@transaction.atomic
def known_error_update(*, known_error: KnownError, by: User, version: int | None = None,
                       **changes) -> KnownError:
    return _knowledge_update(known_error, by=by, version=version, fields=KNOWN_ERROR_FIELDS,
                             changes=changes)


@transaction.atomic
def article_create(*, by: User, **data) -> Article:
    """Write an article or runbook as a draft (agents); problem managers publish it."""
    unknown = set(data) - set(ARTICLE_FIELDS)
    if unknown:
        raise InvalidInput.field(sorted(unknown)[0], "This field cannot be set here.")
    return _knowledge_create(Article, by=by, sequence="article_number_seq", prefix="KB",
                             data=data)


@transaction.atomic
def article_update(*, article: Article, by: User, version: int | None = None,
                   **changes) -> Article:
    return _knowledge_update(article, by=by, version=version, fields=ARTICLE_FIELDS,
                             changes=changes)


@transaction.atomic
def knowledge_set_status(*, record: KnowledgeRecord, by: User, status: str,
                         version: int | None = None) -> KnowledgeRecord:
    """Publish, retire or send back to draft a known error or an article (problem managers)."""
    if status not in KnowledgeStatus.values:
        raise InvalidInput.field("status", f"Choose one of {', '.join(KnowledgeStatus.values)}.")
    guards.manager(by)
    record = _knowledge_lock(record, version)
    if record.status == status:
        raise Conflict(f"{record.number} is already {record.get_status_display().lower()}.")
    at = clock.now()
    record.status = status
    if status == KnowledgeStatus.PUBLISHED:
        record.published_at = at
    record.version += 1
    record.updated_at = at
    record.save()
    return record


@transaction.atomic
def workaround_apply(*, known_error: KnownError, incident: Incident,
                     by: User) -> WorkaroundApplication:
    """Apply a published known error's workaround to an open incident: recorded once, on the
    incident's timeline, and the incident is linked to the known error's problem if it has
    none. Resolving it (code "workaround (known error)") is the agent's next step."""
    guards.agent(by)
    known_error = KnownError.objects.select_for_update(of=("self",)).select_related(
        "problem").get(pk=known_error.pk)  # not retired while it is being applied
    if not known_error.is_published:
        raise Conflict(f"{known_error.number} is {known_error.get_status_display().lower()}; "
                       "only published workarounds are applied.")
    incident = Incident.objects.select_for_update(of=("self",)).get(pk=incident.pk)
    if not incident.is_open:
        raise Conflict(f"{incident.number} is {incident.get_state_display().lower()}; apply a "
                       "workaround to an open incident.")
    application, created = WorkaroundApplication.objects.get_or_create(
        known_error=known_error, incident=incident,
        defaults={"applied_by": by, "applied_at": clock.now()})
    if not created:
        raise Conflict(f"{known_error.number} was already applied to {incident.number}.")
    publish(events.WorkaroundApplied(by=by, at=application.applied_at, known_error=known_error,
                                     incident=incident))
    problem = known_error.problem
    if (problem is not None and problem.state not in guards.FINISHED
            and not ProblemLink.objects.filter(incident=incident).exists()):
        _link(_lock(problem, None), by, [incident], application.applied_at,
              note=f"Workaround {known_error.number} applied")
    return application


# --- suggested problems ----------------------------------------------------------------------

@transaction.atomic
def suggestion_dismiss(*, suggestion: SuggestedProblem, by: User) -> SuggestedProblem:
    """Not a problem: its incidents stay claimed, so the same cluster is not suggested again."""
    guards.manager(by)
    suggestion = SuggestedProblem.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.status != SuggestionStatus.OPEN:
        raise Conflict(f"This suggestion is already {suggestion.get_status_display().lower()}.")
    suggestion.status = SuggestionStatus.DISMISSED
    suggestion.updated_at = clock.now()
    suggestion.save(update_fields=["status", "updated_at"])
    return suggestion



@transaction.atomic
def workaround_resolve(*, known_error: KnownError, incident: Incident, by: User, notes: str,
                       version: int | None = None) -> Incident:
    """Resolve an incident with the known error's workaround applied to it (code "workaround
    (known error)"); a new incident is acknowledged first, as the agent is working it."""
    if not WorkaroundApplication.objects.filter(known_error=known_error,
                                                incident=incident).exists():
        raise Conflict(f"Apply {known_error.number} to {incident.number} first.")
    if incident.state == State.NEW:
        incident = incident_services.incident_acknowledge(incident=incident, by=by,
                                                          version=version)
        version = incident.version
    return incident_services.incident_resolve(incident=incident, by=by,
                                              code=ResolutionCode.KNOWN_ERROR,
                                              notes=notes, version=version)
