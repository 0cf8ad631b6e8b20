from django.db import models


class TurnKind(models.TextChoices):
    """How long one participant's turn lasts (the values `oncall.roster.Turn` takes)."""

    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    DAYS = "days", "Every N days"
    HOURS = "hours", "Every N hours"


class SwapState(models.TextChoices):
    OPEN = "open", "Open"  # waiting for a teammate to take it
    TAKEN = "taken", "Taken"  # became an override with both names on it
    CANCELED = "canceled", "Canceled"


class ContactKind(models.TextChoices):
    """Where a person can be reached; each maps to an outbox channel."""

    IN_APP = "in_app", "In-app"
    EMAIL = "email", "E-mail"
    APPRISE = "apprise", "Apprise URL (Slack, Teams, Telegram, SMS, webhook …)"


class Urgency(models.TextChoices):
    HIGH = "high", "High"  # pages: the priorities a policy pages for
    LOW = "low", "Low"  # notices: everything else


class TargetKind(models.TextChoices):
    """Who a step of an escalation policy notifies."""

    USERS = "users", "Named people"
    SCHEDULE = "schedule", "Whoever is on call in a schedule"
    TEAM = "team", "All members of a team"
    ROUND_ROBIN = "round_robin", "One member of a team, in turn"


class PageState(models.TextChoices):
    ACTIVE = "active", "Paging"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"  # the incident was resolved or canceled
    EXHAUSTED = "exhausted", "Exhausted"  # every step and repeat ran; the manager was told


class MatrixKind(models.TextChoices):
    """The escalation matrix's non-functional dimensions (functional is the policies' steps)."""

    HIERARCHICAL = "hierarchical", "Hierarchical: tell a manager"
    COMMUNICATION = "communication", "Communication: status update cadence"
