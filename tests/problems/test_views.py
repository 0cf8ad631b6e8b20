"""The problem, known-error and article pages as agents, managers and requesters use them."""

import pytest
from django.urls import reverse

from incidents import services as incident_services
from incidents.choices import HoldReason, ResolutionCode, State
from problems import services
from problems.choices import KnowledgeStatus, ProblemState
from problems.models import Problem, ProblemLink, WorkaroundApplication
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(agent, problem_manager):
    """A published known error about the mail relay."""
    known_error = services.known_error_create(
        by=agent, title="Mail relay rejects large attachments",
        symptoms="Outlook says the message is too large; mail with attachments bounces",
        workaround="Share the file through OneDrive and send the link instead.")
    return services.knowledge_set_status(record=known_error, by=problem_manager,
                                         status=KnowledgeStatus.PUBLISHED)


def test_requesters_never_see_problems_or_known_errors(as_user, requester, problem, published):
    client = as_user(requester)
    for url in (reverse("problems:queue"), problem.get_absolute_url(),
                reverse("problems:known-errors"), published.get_absolute_url(),
                reverse("problems:new")):
        assert client.get(url).status_code == 404, url
    assert b"Problems" not in client.get(reverse("incidents:queue")).content.split(b"<main")[0]


def test_requesters_read_only_published_articles_for_everyone(as_user, requester, agent,
                                                              problem_manager):
    public = services.article_create(by=agent, title="Connect to the guest Wi-Fi",
                                     body="Pick **Guest**.", audience="everyone")
    internal = services.article_create(by=agent, title="Restart the RADIUS servers",
                                       body="ssh radius1", audience="agents")
    for article in (public, internal):
        services.knowledge_set_status(record=article, by=problem_manager, status="published")
    client = as_user(requester)
    listing = client.get(reverse("problems:articles")).content.decode()
    assert public.number in listing and internal.number not in listing
    assert client.get(public.get_absolute_url()).status_code == 200
    assert client.get(internal.get_absolute_url()).status_code == 404


def test_queue_lists_problems_with_their_incident_count(as_user, agent, problem):
    page = as_user(agent).get(reverse("problems:queue")).content.decode()
    assert problem.number in page
    assert 'data-testid="workaround-share"' in page


def test_queue_odd_filters_never_fail(as_user, agent, problem):
    client = as_user(agent)
    for query in ("?state=nope", "?priority=9", "?team=abc", "?page=-4", "?view=<script>",
                  "?q=" + "x" * 5000, "?ordering=password", "?q=PRB99999999999"):
        assert client.get(reverse("problems:queue") + query).status_code in (200, 400), query


def test_create_a_problem_from_several_incidents_picked_in_the_queue(as_user, agent, team,
                                                                     requester):
    incidents = [make_incident(by=agent, caller=requester, assignment_team=team,
                               title=f"VPN drops every 10 minutes ({n})") for n in range(3)]
    client = as_user(agent)
    queue = client.get(reverse("incidents:queue")).content.decode()
    assert 'form="bulk"' in queue  # every row has its checkbox for the bulk form
    query = "&".join(f"incident={i.number}" for i in incidents)
    form = client.get(f"{reverse('problems:new')}?{query}").content.decode()
    assert "3 incidents will be linked" in form
    assert "VPN drops every 10 minutes" in form  # the title comes from the first incident
    response = client.post(reverse("problems:new"), {
        "title": "VPN client drops the tunnel", "impact": "high", "urgency": "medium",
        "incident": [i.number for i in incidents]})
    problem = Problem.objects.get()
    assert response.status_code == 302 and response["Location"] == problem.get_absolute_url()
    assert set(ProblemLink.objects.values_list("incident__number", flat=True)) == {
        i.number for i in incidents}


def test_create_refuses_an_unknown_incident_and_saves_nothing(as_user, agent):
    response = as_user(agent).post(reverse("problems:new"), {
        "title": "Something", "impact": "low", "urgency": "low", "incident": ["INC9999999"]})
    assert response.status_code == 400
    assert "INC9999999" in response.content.decode()
    assert not Problem.objects.exists()


def test_create_without_a_title_shows_the_error_on_the_form(as_user, agent):
    response = as_user(agent).post(reverse("problems:new"), {"title": "  ", "impact": "low",
                                                              "urgency": "low"})
    assert response.status_code == 400
    assert "is-invalid" in response.content.decode()
    assert not Problem.objects.exists()


def test_detail_walks_the_lifecycle_and_refuses_what_is_missing(as_user, agent, problem,
                                                                 problem_manager):
    manager = as_user(problem_manager)
    act = lambda name, **data: manager.post(  # noqa: E731
        reverse("problems:act", args=[problem.number, name]), data, HTTP_HX_REQUEST="true")
    assert act("assess").status_code == 200
    assert act("analyze").status_code == 200
    refused = act("start_fix")  # no root cause yet: said on top of the page, in place
    assert refused.status_code == 400
    assert "Record the root cause before starting the fix." in refused.content.decode()
    problem.refresh_from_db()
    assert problem.state == ProblemState.ROOT_CAUSE_ANALYSIS
    act("analysis", version=problem.version, root_cause="Certificate expired",
        workaround="Restart the relay", permanent_fix="Automate renewal")
    assert act("start_fix").status_code == 200
    problem.refresh_from_db()
    assert problem.state == ProblemState.FIX_IN_PROGRESS
    stale = act("resolve", version=1)
    assert stale.status_code == 409
    page = manager.get(problem.get_absolute_url()).content.decode()
    assert "Certificate expired" in page and "Fix in progress" in page


def test_whys_editor_saves_the_chain_in_order(as_user, agent, problem):
    client = as_user(agent)
    response = client.post(reverse("problems:act", args=[problem.number, "whys"]), {
        "version": problem.version, "question": ["Why did mail stop?", "Why did it expire?", ""],
        "answer": ["The certificate expired", "Nobody renews it", ""]})
    assert response.status_code == 302
    assert [(w.position, w.question) for w in problem.whys.all()] == [
        (1, "Why did mail stop?"), (2, "Why did it expire?")]
    bad = client.post(reverse("problems:act", args=[problem.number, "whys"]), {
        "question": ["", "x"], "answer": ["an answer without its question", ""]},
        HTTP_HX_REQUEST="true")
    assert bad.status_code == 400 and "no question" in bad.content.decode()
    assert problem.whys.count() == 2


def test_resolve_awaiting_incidents_from_the_problem_page(as_user, agent, problem_manager,
                                                          problem, incident):
    incident = incident_services.incident_acknowledge(incident=incident, by=agent)
    incident_services.incident_hold(incident=incident, by=agent,
                                    reason=HoldReason.AWAITING_PROBLEM)
    for name in ("assess", "analyze"):
        problem = services.problem_transition(problem=problem, by=problem_manager, name=name)
    problem = services.problem_update(problem=problem, by=problem_manager, root_cause="x",
                                      permanent_fix="Patched the relay")
    problem = services.problem_transition(problem=problem, by=problem_manager, name="start_fix")
    client = as_user(problem_manager)
    page = client.get(problem.get_absolute_url()).content.decode()
    assert "Resolve 1 awaiting the fix" in page
    response = client.post(reverse("problems:act", args=[problem.number, "resolve_incidents"]),
                           {"notes": ""})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == State.RESOLVED and "Patched the relay" in incident.resolution_notes


def test_suggestions_while_typing_put_the_matching_known_error_first(as_user, agent,
                                                                     published):
    response = as_user(agent).get(reverse("problems:suggest"), {
        "title": "Cannot send mail with a large attachment", "description": "bounces"})
    html = response.content.decode()
    assert response.status_code == 200 and published.number in html
    assert "Log and apply this workaround" in html


def test_suggestions_endpoint_ignores_junk(as_user, agent, requester):
    client = as_user(agent)
    for params in ({"title": "&|!():*'\\"}, {"title": "x" * 10000}, {"service": "abc"},
                   {"incident": "INC<>"}, {}):
        assert client.get(reverse("problems:suggest"), params).status_code == 200
    assert as_user(requester).get(reverse("problems:suggest"), {"title": "mail"}).status_code \
        == 204


def test_log_an_incident_and_apply_the_suggested_workaround_then_resolve_with_it(
        as_user, agent, team, published):
    client = as_user(agent)
    response = client.post(reverse("incidents:new"), {
        "title": "Mail with attachments bounces", "impact": "low", "urgency": "low",
        "channel": "phone", "apply": published.number})
    assert response.status_code == 302
    application = WorkaroundApplication.objects.get()
    incident = application.incident
    assert application.known_error == published
    page = client.get(incident.get_absolute_url()).content.decode()
    assert f"Workaround {published.number} applied" in page
    resolved = client.post(reverse("problems:workaround-resolve", args=[published.number]), {
        "incident": incident.number, "version": incident.version,
        "notes": "Sent the link through OneDrive."})
    assert resolved.status_code == 302
    incident.refresh_from_db()
    assert incident.state == State.RESOLVED
    assert incident.resolution_code == ResolutionCode.KNOWN_ERROR
    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert "problem" in kinds  # "applied the workaround", agents only


def test_apply_from_the_incident_page(as_user, agent, incident, published):
    client = as_user(agent)
    response = client.post(reverse("problems:apply", args=[published.number]),
                           {"incident": incident.number})
    assert response.status_code == 302
    assert WorkaroundApplication.objects.filter(incident=incident).exists()
    again = client.post(reverse("problems:apply", args=[published.number]),
                        {"incident": incident.number}, follow=True)
    assert "already applied" in again.content.decode()
    assert WorkaroundApplication.objects.count() == 1


def test_known_error_pages_search_and_publish(as_user, agent, problem_manager, published):
    client = as_user(agent)
    listing = client.get(reverse("problems:known-errors"), {"q": "attachment too large"})
    assert published.number in listing.content.decode()
    nothing = client.get(reverse("problems:known-errors"), {"q": "printer toner"})
    assert published.number not in nothing.content.decode()
    draft = client.post(reverse("problems:known-error-new"), {
        "title": "Printer jams", "symptoms": "Paper jam on floor 3",
        "workaround": "Use the printer on floor 2"})
    assert draft.status_code == 302
    number = draft["Location"].rstrip("/").split("/")[-1]
    refused = client.post(reverse("problems:known-error-status", args=[number]),
                          {"status": "published"}, follow=True)
    assert "Only problem managers" in refused.content.decode()
    ok = as_user(problem_manager).post(reverse("problems:known-error-status", args=[number]),
                                       {"status": "published"})
    assert ok.status_code == 302


def test_known_error_form_errors_are_shown_and_nothing_saved(as_user, agent):
    response = as_user(agent).post(reverse("problems:known-error-new"), {"title": "No workaround"})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_article_page_never_carries_script_or_handlers(as_user, agent, problem_manager):
    article = services.article_create(
        by=agent, title="Reset the VPN client",
        body="# Steps\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
             "[click](javascript:alert(3))\n\n1. Open the client\n2. Reset")
    response = as_user(agent).get(article.get_absolute_url())
    html = response.content.decode()
    body = html.split('data-testid="article-body"')[1]
    assert "<script>alert" not in body and "onerror" not in body and "javascript:" not in body
    assert "<h1>Steps</h1>" in body and "<li>Open the client</li>" in body


def _queries(client, url) -> int:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()  # the workaround share, counted every five minutes, is counted here each time
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200, url
    return len(queries)


LIST_URLS = ["/problems/", "/problems/?view=all&ordering=state", "/problems/?q=relay",
             "/problems/?view=suggested", "/known-errors/", "/known-errors/?q=relay",
             "/articles/", "/articles/?q=relay"]


def test_list_pages_run_the_same_queries_for_one_page_of_rows_or_two(as_user, agent,
                                                                     problem_manager, team):
    """Beyond one page (50 rows) a list also counts its rows, capped: one query more."""
    client = as_user(problem_manager)

    def add(n):
        for i in range(n):
            problem = services.problem_create(by=agent, title=f"Mail relay drops {i}",
                                              assignment_team=team)
            services.problem_link_incidents(problem=problem, by=agent, incidents=[
                make_incident(by=agent, assignment_team=team, title=f"Relay {i}")])
            for record in (services.known_error_create(
                    by=agent, title=f"Mail relay drops {i}", symptoms="Relay refuses mail",
                    workaround="Restart the relay"),
                    services.article_create(by=agent, title=f"Mail relay {i}",
                                            body="Restart the **relay**.")):
                services.knowledge_set_status(record=record, by=problem_manager,
                                              status=KnowledgeStatus.PUBLISHED)

    add(51)
    few = {url: _queries(client, url) for url in LIST_URLS}
    add(50)
    many = {url: _queries(client, url) for url in LIST_URLS}
    assert many == few
    assert max(many.values()) <= 10


@pytest.mark.parametrize("start", ["/problems/", "/problems/?view=all", "/known-errors/",
                                   "/articles/"])
def test_every_link_a_list_renders_works_twice(as_user, problem_manager, problem, start):
    """Each sort header, view tab and pager link, followed, then its own links once more
    (a second click toggles the sort direction)."""
    import html
    import re

    client = as_user(problem_manager)
    seen = set()
    pages = [start]
    for _ in range(2):
        found = []
        for url in pages:
            body = client.get(url).content.decode()
            for href in re.findall(r'href="(\?[^"]*)"', body):
                link = url.split("?")[0] + html.unescape(href)
                if link not in seen:
                    seen.add(link)
                    found.append(link)
        for link in found:
            response = client.get(link)
            assert response.status_code == 200, (link, response.status_code)
        pages = found
    assert seen
