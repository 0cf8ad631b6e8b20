from django.db import models


class State(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELED = "canceled", "Canceled"


OPEN_STATES = (State.NEW, State.IN_PROGRESS, State.ON_HOLD)


class Level(models.TextChoices):
    """Impact and urgency share one scale."""

    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class Priority(models.IntegerChoices):
    P1 = 1, "P1 – Critical"
    P2 = 2, "P2 – High"
    P3 = 3, "P3 – Moderate"
    P4 = 4, "P4 – Low"


class Channel(models.TextChoices):
    WEB = "web", "Web"
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    API = "api", "API"
    MONITORING = "monitoring", "Monitoring"


class HoldReason(models.TextChoices):
    AWAITING_CALLER = "awaiting_caller", "Awaiting caller"
    AWAITING_VENDOR = "awaiting_vendor", "Awaiting vendor"
    AWAITING_CHANGE = "awaiting_change", "Awaiting change"
    AWAITING_PROBLEM = "awaiting_problem", "Awaiting problem"


class ResolutionCode(models.TextChoices):
    FIXED = "fixed", "Fixed"
    WORKAROUND = "workaround", "Workaround provided"
    KNOWN_ERROR = "known_error", "Workaround (known error)"
    USER_ERROR = "user_error", "User error / training"
    NOT_REPRODUCIBLE = "not_reproducible", "Not reproducible"
    DUPLICATE = "duplicate", "Duplicate"


class EntryKind(models.TextChoices):
    CREATED = "created", "Created"
    FIELD_CHANGE = "field_change", "Field changed"
    TRANSITION = "transition", "State changed"
    ASSIGNMENT = "assignment", "Assigned"
    ESCALATION = "escalation", "Escalated"
    NOTIFICATION = "notification", "Manager notified"
    COMMENT = "comment", "Comment"
    WORK_NOTE = "work_note", "Work note"
    SLA = "sla", "SLA"  # a breach, or a policy re-applied: for agents, not callers
    PAGE = "page", "Paging"  # on-call pages started, acknowledged, exhausted: for agents
    PROBLEM = "problem", "Problem"  # linked to a problem, a known error applied: for agents
    REMINDER = "reminder", "Follow-up"  # an on-hold incident's follow-up date came: for agents


# Entries a requester may read: everything but internal work notes, SLA, paging, problem and
# follow-up lines.
PUBLIC_KINDS = [k for k in EntryKind if k not in (EntryKind.WORK_NOTE, EntryKind.SLA,
                                                  EntryKind.PAGE, EntryKind.PROBLEM,
                                                  EntryKind.REMINDER)]


class SlaKind(models.TextChoices):
    """An SLA is promised to the caller; an OLA is the internal target of the team holding it."""

    SLA = "sla", "SLA"
    OLA = "ola", "OLA"


class SlaTarget(models.TextChoices):
    RESPONSE = "response", "Response"  # until the first acknowledgement
    RESOLUTION = "resolution", "Resolution"


class ClockStage(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    CANCELED = "canceled", "Canceled"


# Stages in which a clock still counts down (and the sweep may have something to do).
ACTIVE_STAGES = (ClockStage.RUNNING, ClockStage.PAUSED)


class LedgerAction(models.TextChoices):
    ATTACHED = "attached", "Attached"
    PAUSED = "paused", "Paused"
    RESUMED = "resumed", "Resumed"
    MET = "met", "Met"
    WARNED = "warned", "Warning"
    BREACHED = "breached", "Breached"
    REOPENED = "reopened", "Reopened"
    REPLACED = "replaced", "Replaced"
    CANCELED = "canceled", "Canceled"
    RECOMPUTED = "recomputed", "Recomputed"
