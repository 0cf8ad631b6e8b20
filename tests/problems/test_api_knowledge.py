"""The known-error, article and suggestion API, and the schema of all three."""

import re

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from problems.choices import Audience
from problems.models import Article, KnownError, WorkaroundApplication
from tests.factories import CategoryFactory, ServiceFactory, make_incident
from tests.problems.api import (
    ARTICLES,
    HUGE,
    KNOWN_ERRORS,
    SLUGS,
    SUGGESTIONS,
    article,
    error,
    known_error,
    url,
)

# --- known errors ----------------------------------------------------------------------------

def test_an_agent_drafts_and_a_problem_manager_publishes_a_known_error(
        api, agent, problem_manager, problem):
    service = ServiceFactory(name="E-mail")
    response = api(agent).post(KNOWN_ERRORS, {
        "title": "Relay queue stuck", "symptoms": "Mail waits in the outbox.",
        "workaround": "Restart the queue runner.", "services": [service.pk],
        "problem": problem.number, "version": 99}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["services"], body["problem"]) == (
        "draft", [service.pk], problem.number)
    record = KnownError.objects.get(number=body["number"])
    error(api(agent).post(url(record, "publish"), {}, format="json"), 403)
    body = api(problem_manager).post(url(record, "publish"), {}, format="json").json()
    assert (body["status"], body["version"]) == ("published", 2) and body["published_at"]
    error(api(problem_manager).post(url(record, "publish"), {}, format="json"), 409)
    error(api(problem_manager).post(url(record, "retire"), {"version": 1}, format="json"), 409)
    assert api(problem_manager).post(url(record, "retire"), {},
                                     format="json").json()["status"] == "retired"
    assert api(problem_manager).post(url(record, "draft"), {},
                                     format="json").json()["status"] == "draft"


def test_a_published_known_error_is_edited_by_problem_managers_only(api, agent,
                                                                    problem_manager):
    record = known_error(agent, publish_by=problem_manager)
    error(api(agent).patch(url(record), {"workaround": "Reboot"}, format="json"), 403)
    error(api(problem_manager).patch(url(record), {"workaround": "Reboot", "version": 1},
                                     format="json"), 409)
    response = api(problem_manager).patch(url(record), {"workaround": "Reboot"},
                                          format="json", HTTP_IF_MATCH=str(record.version))
    assert response.status_code == 200, response.content
    assert response.json()["workaround"] == "Reboot"


@pytest.mark.parametrize(("payload", "field"), [
    ({"title": "Stuck", "symptoms": "Slow"}, "workaround"),
    ({"title": "", "symptoms": "Slow", "workaround": "Restart"}, "title"),
    ({"title": "Stuck", "symptoms": "Slow", "workaround": "Go", "services": [999999]},
     "services"),
    ({"title": "Stuck", "symptoms": "Slow", "workaround": "Go", "services": "1"}, "services"),
    ({"title": "Stuck", "symptoms": "Slow", "workaround": "Go", "categories": [HUGE]},
     "categories"),
    ({"title": "Stuck", "symptoms": "Slow", "workaround": "Go", "problem": "PRB9999999"},
     "problem"),
    ({"title": "Stuck", "symptoms": ["Slow"], "workaround": "Go"}, "symptoms"),
])
def test_bad_known_errors_are_400(api, agent, payload, field):
    body = error(api(agent).post(KNOWN_ERRORS, payload, format="json"), 400)
    assert field in body["field_errors"]
    assert not KnownError.objects.exists()


def test_a_subcategory_on_a_known_error_is_refused(api, agent):
    wifi = CategoryFactory(name="Wi-Fi", parent=CategoryFactory(name="Network"))
    body = error(api(agent).post(KNOWN_ERRORS, {"title": "No Wi-Fi", "symptoms": "Offline",
                                                "workaround": "Cable",
                                                "categories": [wifi.pk]}, format="json"), 400)
    assert "categories" in body["field_errors"]


def test_the_problem_of_a_known_error_is_set_once(api, agent, problem):
    record = known_error(agent)
    body = error(api(agent).patch(url(record), {"problem": problem.number}, format="json"), 400)
    assert "problem" in body["field_errors"]


def test_known_errors_filter_by_status_text_and_service(api, agent, problem_manager):
    mail = ServiceFactory(name="E-mail")
    published = known_error(agent, title="Relay queue stuck", publish_by=problem_manager,
                            services=[mail])
    draft = known_error(agent, title="VPN drops hourly", symptoms="Tunnel resets")
    client = api(agent)

    def numbers(**query):
        response = client.get(KNOWN_ERRORS, query)
        assert response.status_code == 200, response.content
        return [row["number"] for row in response.json()["results"]]

    assert numbers() == [draft.number, published.number]
    assert numbers(status="published") == [published.number]
    assert numbers(q="tunnel") == [draft.number]
    assert numbers(q="outbox") == [published.number]
    assert numbers(q=published.number) == [published.number]
    assert numbers(service=mail.pk) == [published.number]
    assert numbers(ordering="number") == [published.number, draft.number]
    error(client.get(KNOWN_ERRORS, {"status": "gone"}), 400)
    error(client.get(KNOWN_ERRORS, {"service": "mail"}), 400)


def test_a_workaround_is_applied_to_an_open_incident_once(api, agent, problem_manager,
                                                           incident, requester):
    draft = known_error(agent)
    client = api(agent)
    error(client.post(url(draft, "apply"), {"incident": incident.number}, format="json"), 409)
    record = known_error(agent, title="Relay stuck", publish_by=problem_manager)
    response = client.post(url(record, "apply"), {"incident": incident.number},
                           format="json")
    assert response.status_code == 201, response.content
    assert response.json()["known_error"] == record.number
    assert response.json()["incident"] == incident.number
    assert response.json()["applied_by"] == agent.pk
    error(client.post(url(record, "apply"), {"incident": incident.number}, format="json"), 409)
    assert WorkaroundApplication.objects.count() == 1
    for value in ("INC9999999", "junk", None, [incident.number]):
        body = error(client.post(url(record, "apply"), {"incident": value}, format="json"),
                     400)
        assert "incident" in body["field_errors"]
    closed = make_incident(by=agent, caller=requester, state="closed")
    error(client.post(url(record, "apply"), {"incident": closed.number}, format="json"), 409)


@pytest.mark.parametrize("number", ["KE9999999", "junk", "PRB0000001", HUGE])
def test_an_unknown_known_error_is_a_404(api, agent, number):
    error(api(agent).get(f"{KNOWN_ERRORS}{number}/"), 404)
    error(api(agent).post(f"{KNOWN_ERRORS}{number}/publish/", {}, format="json"), 404)


# --- articles --------------------------------------------------------------------------------

def test_an_agent_writes_an_article_or_runbook(api, agent, problem_manager):
    response = api(agent).post(ARTICLES, {
        "title": "Restart the mail relay", "kind": "runbook", "audience": "agents",
        "body": "# Steps\n\n1. Stop\n2. Start", "steps": "1. `systemctl restart relay`"},
        format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert re.fullmatch(r"KB\d{7}", body["number"])
    assert (body["kind"], body["audience"], body["status"]) == ("runbook", "agents", "draft")
    assert body["body"] == "# Steps\n\n1. Stop\n2. Start"  # the Markdown source
    record = Article.objects.get(number=body["number"])
    response = api(agent).patch(url(record), {"audience": "everyone", "version": 1},
                                format="json")
    assert response.json()["audience"] == "everyone" and response.json()["version"] == 2
    error(api(agent).patch(url(record), {"title": "Old", "version": 1}, format="json"), 409)
    assert api(problem_manager).post(url(record, "publish"), {},
                                     format="json").json()["status"] == "published"


@pytest.mark.parametrize(("payload", "field"), [
    ({"title": "Reset"}, "body"),
    ({"title": "Reset", "body": "x", "kind": "novel"}, "kind"),
    ({"title": "Reset", "body": "x", "audience": "world"}, "audience"),
    ({"title": "Reset", "body": ["x"]}, "body"),
    ({"title": "x" * 201, "body": "x"}, "title"),
])
def test_bad_articles_are_400(api, agent, payload, field):
    body = error(api(agent).post(ARTICLES, payload, format="json"), 400)
    assert field in body["field_errors"]
    assert not Article.objects.exists()


def test_requesters_read_only_published_articles_for_everyone(api, agent, problem_manager,
                                                              requester):
    public = article(agent, title="Reset your password", publish_by=problem_manager)
    internal = article(agent, title="Relay runbook", audience=Audience.AGENTS,
                       publish_by=problem_manager)
    draft = article(agent, title="New VPN client")
    client = api(requester)
    rows = client.get(ARTICLES).json()["results"]
    assert [row["number"] for row in rows] == [public.number]
    assert client.get(url(public)).json()["title"] == "Reset your password"
    for hidden in (internal, draft):
        error(client.get(url(hidden)), 404)
    assert client.get(ARTICLES, {"status": "draft"}).json()["results"] == []
    error(client.post(ARTICLES, {"title": "Mine", "body": "x"}, format="json"), 403)
    error(client.patch(url(public), {"title": "Mine"}, format="json"), 403)
    error(client.post(url(public, "retire"), {}, format="json"), 403)
    assert Article.objects.get(pk=public.pk).title == "Reset your password"
    agent_rows = api(agent).get(ARTICLES).json()["results"]
    assert {row["number"] for row in agent_rows} == {public.number, internal.number,
                                                     draft.number}


def test_articles_filter_by_kind_and_audience(api, agent):
    runbook = article(agent, title="Relay runbook", kind="runbook", audience=Audience.AGENTS)
    article(agent, title="Password reset")
    client = api(agent)
    rows = client.get(ARTICLES, {"kind": "runbook"}).json()["results"]
    assert [row["number"] for row in rows] == [runbook.number]
    rows = client.get(ARTICLES, {"audience": "agents", "q": "relay"}).json()["results"]
    assert [row["number"] for row in rows] == [runbook.number]
    error(client.get(ARTICLES, {"kind": "novel"}), 400)


# --- suggestions -----------------------------------------------------------------------------

def test_suggestions_put_the_matching_published_known_error_first(api, agent, requester,
                                                                  problem_manager):
    mail = ServiceFactory(name="E-mail")
    match = known_error(agent, title="Mail is down: relay queue stuck",
                        publish_by=problem_manager, services=[mail])
    known_error(agent, title="Printer offline", symptoms="Printer shows offline",
                workaround="Power cycle", publish_by=problem_manager)
    known_error(agent, title="Mail is down for the finance floor")  # a draft: never offered
    public = article(agent, title="When mail is down", body="Use webmail meanwhile.",
                     publish_by=problem_manager)
    article(agent, title="Mail relay runbook", audience=Audience.AGENTS, body="Mail is down",
            publish_by=problem_manager)
    resolved = make_incident(by=agent, caller=requester, state="resolved",
                             title="Mail is down for the finance floor")
    response = api(agent).get(SUGGESTIONS, {"title": "Mail is down for the finance floor",
                                            "text": "outbox full", "service": mail.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["known_errors"][0]["number"] == match.number
    assert body["known_errors"][0]["workaround"] == match.workaround
    assert body["known_errors"][0]["url"].endswith(url(match))
    assert all(row["number"] != "Printer offline" for row in body["known_errors"])
    assert KnownError.objects.filter(status="draft").get().number not in str(body)
    assert public.number in [row["number"] for row in body["articles"]]
    assert body["incidents"] == [{"number": resolved.number, "title": resolved.title,
                                  "resolution_code": "fixed",
                                  "resolution_notes": resolved.resolution_notes}]
    body = api(requester).get(SUGGESTIONS, {"title": "Mail is down"}).json()
    assert body["known_errors"] == [] and body["incidents"] == []
    assert [row["number"] for row in body["articles"]] == [public.number]


def test_suggestions_for_nothing_are_empty(api, agent):
    body = api(agent).get(SUGGESTIONS).json()
    assert body == {"known_errors": [], "articles": [], "incidents": []}
    assert api(agent).get(SUGGESTIONS, {"title": "!!! ??"}).json()["articles"] == []


@pytest.mark.parametrize("query", [
    {"title": "x" * 201}, {"text": "x" * 10001}, {"service": "mail"}, {"service": HUGE},
    {"category": "-1"}, {"category": "0"},
])
def test_bad_suggestion_queries_are_400(api, agent, query):
    error(api(agent).get(SUGGESTIONS, query), 400)


# --- schema ----------------------------------------------------------------------------------

def test_the_schema_describes_every_endpoint(api, agent):
    response = api(agent).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for slug in SLUGS.values():
        operation = paths[f"/api/v1/problems/{{number}}/{slug}/"]["post"]
        assert operation["tags"] == ["problems"]
        assert "requestBody" in operation and "409" in operation["responses"], slug
    summaries = {paths[f"/api/v1/problems/{{number}}/{slug}/"]["post"]["summary"]
                 for slug in SLUGS.values()}
    assert len(summaries) == len(SLUGS)  # each transition has its own
    for action in ("whys", "link", "unlink", "resolve-incidents", "known-error"):
        assert "post" in paths[f"/api/v1/problems/{{number}}/{action}/"], action
    assert "get" in paths["/api/v1/problems/{number}/timeline/"]
    assert set(paths["/api/v1/problems/{number}/"]) == {"get", "put", "patch"}
    assert set(paths["/api/v1/known-errors/{number}/"]) == {"get", "patch"}
    for base in ("known-errors", "articles"):
        for action in ("publish", "retire", "draft"):
            operation = paths[f"/api/v1/{base}/{{number}}/{action}/"]["post"]
            assert operation["tags"] == ["knowledge"]
    assert "post" in paths["/api/v1/known-errors/{number}/apply/"]
    suggestions = paths["/api/v1/suggestions/"]["get"]
    assert {p["name"] for p in suggestions["parameters"]} == {"title", "text", "service",
                                                              "category"}
    answer = suggestions["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/Suggestions"}
    listed = {p["name"] for p in paths["/api/v1/problems/"]["get"]["parameters"]}
    assert listed >= {"q", "state", "priority", "team", "owner", "service", "category",
                      "ordering", "limit", "offset"}
    components = schema["components"]["schemas"]
    assert "ProblemStateEnum" in components and "ArticleKindEnum" in components


def test_the_schema_generates_without_warnings():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    warnings = dict(GENERATOR_STATS._warn_cache)
    errors = dict(GENERATOR_STATS._error_cache)
    GENERATOR_STATS.reset()
    validate_schema(schema)
    assert not warnings and not errors, [*warnings, *errors]
