"""What the problem and knowledge API tests share: addresses, error checks, records."""



from itsm.models import User
from problems import services
from problems.choices import Audience, KnowledgeStatus
from problems.models import Problem

PROBLEMS = "/api/v1/problems/"
KNOWN_ERRORS = "/api/v1/known-errors/"
ARTICLES = "/api/v1/articles/"
SUGGESTIONS = "/api/v1/suggestions/"
HUGE = str(2**70)
NUL = "\x00"
SLUGS = {"assess": "assess", "analyze": "analyze", "start_fix": "start-fix",
         "resolve": "resolve", "close": "close", "reanalyze": "reanalyze", "cancel": "cancel",
         "mark_duplicate": "mark-duplicate", "accept_risk": "accept-risk"}


def url(record, action=""):
    base = {"PRB": PROBLEMS, "KE0": KNOWN_ERRORS, "KB0": ARTICLES}[record.number[:3]]
    return f"{base}{record.number}/" + (f"{action}/" if action else "")


def error(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:400])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"message", "field_errors"} and body["message"]
    return body


def fresh(user) -> User:
    """The user without cached permissions and teams, so each request counts its own."""
    return User.objects.get(pk=user.pk)


def reloaded(problem) -> Problem:
    return Problem.objects.get(pk=problem.pk)




def known_error(by, *, title="Mail relay queue stuck", publish_by=None, **fields):
    fields.setdefault("symptoms", "Mail is down; messages wait in the outbox.")
    fields.setdefault("workaround", "Restart the relay's queue runner.")
    record = services.known_error_create(by=by, title=title, **fields)
    if publish_by is not None:
        record = services.knowledge_set_status(record=record, by=publish_by,
                                               status=KnowledgeStatus.PUBLISHED)
    return record


def article(by, *, title="Resetting your password", audience=Audience.EVERYONE,
            publish_by=None, **fields):
    fields.setdefault("body", "Open **Settings** and choose *Reset*.")
    record = services.article_create(by=by, title=title, audience=audience, **fields)
    if publish_by is not None:
        record = services.knowledge_set_status(record=record, by=publish_by,
                                               status=KnowledgeStatus.PUBLISHED)
    return record
