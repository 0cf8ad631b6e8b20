from django.db import models


class ProblemState(models.TextChoices):
    NEW = "new", "New"
    ASSESSED = "assessed", "Assessed"
    ROOT_CAUSE_ANALYSIS = "root_cause_analysis", "Root cause analysis"
    FIX_IN_PROGRESS = "fix_in_progress", "Fix in progress"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELED = "canceled", "Canceled"
    DUPLICATE = "duplicate", "Duplicate"
    RISK_ACCEPTED = "risk_accepted", "Risk accepted"


# Problems still being worked: incidents may be linked, the owner may edit.
OPEN_PROBLEM_STATES = (ProblemState.NEW, ProblemState.ASSESSED,
                       ProblemState.ROOT_CAUSE_ANALYSIS, ProblemState.FIX_IN_PROGRESS)
# Everything before "closed" in the main line, in lifecycle order (the queue's state sort).
LIFECYCLE = [s.value for s in ProblemState]


class ProblemEntryKind(models.TextChoices):
    CREATED = "created", "Created"
    FIELD_CHANGE = "field_change", "Field changed"
    TRANSITION = "transition", "State changed"
    WHYS = "whys", "5 Whys"
    LINKED = "linked", "Incident linked"
    UNLINKED = "unlinked", "Incident unlinked"
    INCIDENTS_RESOLVED = "incidents_resolved", "Incidents resolved"
    KNOWN_ERROR = "known_error", "Known error"
    NOTE = "note", "Note"


class KnowledgeStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


class ArticleKind(models.TextChoices):
    ARTICLE = "article", "Article"
    RUNBOOK = "runbook", "Runbook"


class Audience(models.TextChoices):
    AGENTS = "agents", "Agents only"
    EVERYONE = "everyone", "Everyone (requesters too)"


class SuggestionStatus(models.TextChoices):
    OPEN = "open", "Open"
    CONVERTED = "converted", "Problem created"
    DISMISSED = "dismissed", "Dismissed"


class ClusterBasis(models.TextChoices):
    SERVICE_CATEGORY = "service_category", "Same service and category"
    SIMILAR_TITLES = "similar_titles", "Similar titles"
