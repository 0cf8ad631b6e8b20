"""The problems admin: every page renders for an admin, saves go through the services (numbers,
versions, the timeline), the lifecycle stays read-only, publishing and dismissing are actions
that refuse politely, and the recurrence settings are one row."""

import pytest

from itsm.choices import Role
from problems import services
from problems.choices import KnowledgeStatus, ProblemEntryKind, ProblemState, SuggestionStatus
from problems.models import (
    Article,
    KnownError,
    Problem,
    ProblemLink,
    RecurrenceSettings,
    SuggestedProblem,
)
from problems.recurrence import detect_recurrence
from tests.factories import CategoryFactory, ServiceFactory, UserFactory, make_incident

pytestmark = pytest.mark.django_db
URL = "/admin/problems"


@pytest.fixture
def root(db):
    return UserFactory(username="root", role=Role.ADMIN, is_staff=True)


@pytest.fixture
def admin_client(client, root):
    client.force_login(root)
    return client


@pytest.fixture
def known_error(agent):
    return services.known_error_create(by=agent, title="Mail relay certificate expired",
                                       symptoms="Mail is down for the finance floor",
                                       workaround="Send through the backup relay.")


@pytest.fixture
def article(agent):
    return services.article_create(by=agent, title="Restart the mail relay",
                                   body="## Steps\n\n1. Restart it.")


@pytest.fixture
def suggestion(agent, requester, team):
    service, category = ServiceFactory(name="E-mail"), CategoryFactory(name="Software")
    for title in ("Outlook crashes", "Printer jams", "Badge reader dead"):
        make_incident(by=agent, caller=requester, assignment_team=team, title=title,
                      service=service, category=category)
    detect_recurrence()
    return SuggestedProblem.objects.get()


@pytest.fixture
def everything(problem, known_error, article, suggestion, agent, incident, root):
    """One row of every problems model, the known error applied to the incident."""
    services.knowledge_set_status(record=known_error, by=root, status=KnowledgeStatus.PUBLISHED)
    known_error.refresh_from_db()
    application = services.workaround_apply(known_error=known_error, incident=incident, by=agent)
    services.problem_save_whys(problem=problem, by=agent, whys=[("Why is mail down?", "")])
    return {"problem": problem, "knownerror": known_error, "article": article,
            "suggestedproblem": suggestion, "workaroundapplication": application,
            "recurrencesettings": RecurrenceSettings.load()}


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def problem_form(**fields):
    data = {"title": "Mail relay drops connections", "description": "", "impact": "medium",
            "urgency": "medium", "service": "", "category": "", "owner": "",
            "assignment_team": "", "root_cause": "", "contributing_factors": "",
            "workaround": "", "permanent_fix": "", "change_reference": "", "seen_version": "",
            "whys-TOTAL_FORMS": 0, "whys-INITIAL_FORMS": 0,
            "links-TOTAL_FORMS": 0, "links-INITIAL_FORMS": 0}
    data.update(fields)
    return data


def edit_form(problem, **fields):
    """The change form as the page shows it, with `fields` changed."""
    data = problem_form(
        title=problem.title, description=problem.description, impact=problem.impact,
        urgency=problem.urgency, service=problem.service_id or "",
        category=problem.category_id or "", owner=problem.owner_id or "",
        assignment_team=problem.assignment_team_id or "", seen_version=problem.version,
        **{"timeline-TOTAL_FORMS": 0, "timeline-INITIAL_FORMS": 0})
    whys = list(problem.whys.all())
    data.update({"whys-TOTAL_FORMS": len(whys), "whys-INITIAL_FORMS": len(whys)})
    for i, why in enumerate(whys):
        data.update({f"whys-{i}-id": why.pk, f"whys-{i}-problem": problem.pk,
                     f"whys-{i}-position": why.position, f"whys-{i}-question": why.question,
                     f"whys-{i}-answer": why.answer})
    links = list(problem.links.all())
    data.update({"links-TOTAL_FORMS": len(links), "links-INITIAL_FORMS": len(links)})
    for i, link in enumerate(links):
        data.update({f"links-{i}-id": link.pk, f"links-{i}-problem": problem.pk})
    data.update(fields)
    return data


# --- every page renders ----------------------------------------------------------------------

@pytest.mark.parametrize("model", ["problem", "knownerror", "article", "suggestedproblem",
                                   "workaroundapplication"])
def test_every_problems_admin_list_and_change_form_renders(admin_client, everything, model):
    assert admin_client.get(f"{URL}/{model}/").status_code == 200
    assert admin_client.get(f"{URL}/{model}/?q=mail").status_code == 200
    row = everything[model]
    assert admin_client.get(f"{URL}/{model}/{row.pk}/change/").status_code == 200


@pytest.mark.parametrize("model", ["problem", "knownerror", "article"])
def test_the_add_forms_render(admin_client, model):
    assert admin_client.get(f"{URL}/{model}/add/").status_code == 200


@pytest.mark.parametrize("model", ["suggestedproblem", "workaroundapplication"])
def test_what_the_desk_writes_is_not_added_in_the_admin(admin_client, model):
    assert admin_client.get(f"{URL}/{model}/add/").status_code == 403


def test_the_problem_page_shows_its_timeline_and_whys(admin_client, everything):
    problem = everything["problem"]
    page = admin_client.get(f"{URL}/problem/{problem.pk}/change/").content.decode()
    assert "Why is mail down?" in page
    assert "Incident linked" in page and problem.links.get().incident.number in page


# --- problems go through the services --------------------------------------------------------

def test_a_problem_added_in_the_admin_is_numbered_and_logged_by_the_services(
    admin_client, root, incident, agent
):
    response = admin_client.post(f"{URL}/problem/add/", problem_form(
        owner=agent.pk, impact="high", root_cause="The relay's certificate expired.",
        **{"whys-TOTAL_FORMS": 2, "whys-0-position": 2, "whys-0-question": "Why expired?",
           "whys-1-position": 1, "whys-1-question": "Why is mail down?",
           "whys-1-answer": "The relay refuses TLS.",
           "links-TOTAL_FORMS": 1, "links-0-incident": incident.pk}))

    assert response.status_code == 302, response.context["adminform"].form.errors
    problem = Problem.objects.get()
    assert problem.number.startswith("PRB") and problem.created_by == root
    assert problem.state == ProblemState.NEW and problem.owner == agent
    assert problem.root_cause == "The relay's certificate expired."
    assert [(w.position, w.question) for w in problem.whys.all()] == [
        (1, "Why is mail down?"), (2, "Why expired?")]
    assert problem.links.get().incident == incident
    kinds = list(problem.timeline.values_list("kind", flat=True))
    assert kinds[0] == ProblemEntryKind.CREATED
    assert {ProblemEntryKind.FIELD_CHANGE, ProblemEntryKind.WHYS,
            ProblemEntryKind.LINKED} <= set(kinds)
    assert incident.timeline.filter(kind="problem").exists()


def test_an_owner_who_is_not_an_agent_is_refused(admin_client, requester):
    response = admin_client.post(f"{URL}/problem/add/", problem_form(owner=requester.pk))
    assert response.status_code == 200
    assert "owner" in response.context["adminform"].form.errors
    assert not Problem.objects.exists()


def test_editing_a_problem_records_the_change_on_its_timeline(admin_client, problem, root):
    response = admin_client.post(f"{URL}/problem/{problem.pk}/change/",
                                 edit_form(problem, title="Relay certificate expired",
                                           urgency="high"))

    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.title == "Relay certificate expired" and problem.version > 1
    changes = dict(problem.timeline.filter(kind=ProblemEntryKind.FIELD_CHANGE)
                   .values_list("field", "new_value"))
    assert changes["title"] == "Relay certificate expired" and changes["urgency"] == "High"
    assert problem.timeline.filter(kind=ProblemEntryKind.FIELD_CHANGE, actor=root).exists()


def test_the_state_cannot_be_changed_in_the_admin(admin_client, problem):
    admin_client.post(f"{URL}/problem/{problem.pk}/change/",
                      edit_form(problem, state=ProblemState.CLOSED))
    problem.refresh_from_db()
    assert problem.state == ProblemState.NEW


def test_a_save_over_someone_elses_change_is_refused(admin_client, problem, agent):
    shown = edit_form(problem, title="Mine")
    services.problem_update(problem=problem, by=agent, title="Theirs")

    response = admin_client.post(f"{URL}/problem/{problem.pk}/change/", shown)

    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    problem.refresh_from_db()
    assert problem.title == "Theirs"


def test_links_are_added_and_removed_through_the_services(admin_client, problem, agent,
                                                          requester, team):
    other = make_incident(by=agent, caller=requester, assignment_team=team, title="Mail again")
    old = problem.links.get()
    data = edit_form(problem, **{"links-0-DELETE": "on", "links-TOTAL_FORMS": 2,
                                 "links-1-incident": other.pk})

    assert admin_client.post(f"{URL}/problem/{problem.pk}/change/", data).status_code == 302

    assert list(problem.links.values_list("incident", flat=True)) == [other.pk]
    assert not ProblemLink.objects.filter(pk=old.pk).exists()
    kinds = set(problem.timeline.values_list("kind", flat=True))
    assert {ProblemEntryKind.LINKED, ProblemEntryKind.UNLINKED} <= kinds


def test_a_finished_problem_is_read_only(admin_client, problem, root):
    services.problem_transition(problem=problem, by=root, name="cancel", note="Not a problem.")
    problem.refresh_from_db()

    page = admin_client.get(f"{URL}/problem/{problem.pk}/change/").content.decode()
    assert 'name="title"' not in page
    response = admin_client.post(f"{URL}/problem/{problem.pk}/change/",
                                 edit_form(problem, title="Renamed"))
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.title != "Renamed"


# --- known errors and articles ---------------------------------------------------------------

def test_a_known_error_added_in_the_admin_is_a_numbered_draft(admin_client, root, problem):
    mail = ServiceFactory(name="E-mail")
    response = admin_client.post(f"{URL}/knownerror/add/", {
        "title": "Relay certificate expired", "problem": problem.pk,
        "symptoms": "Mail is down.", "root_cause": "", "workaround": "Use the backup relay.",
        "services": [mail.pk], "seen_version": "",
        "applications-TOTAL_FORMS": 0, "applications-INITIAL_FORMS": 0})

    assert response.status_code == 302, response.context["adminform"].form.errors
    known_error = KnownError.objects.get()
    assert known_error.number.startswith("KE") and known_error.status == KnowledgeStatus.DRAFT
    assert known_error.created_by == root and known_error.problem == problem
    assert list(known_error.services.all()) == [mail]


def test_an_article_added_in_the_admin_is_a_numbered_draft(admin_client, root):
    response = admin_client.post(f"{URL}/article/add/", {
        "title": "Restart the relay", "kind": "runbook", "audience": "agents",
        "symptoms": "", "body": "## Steps", "steps": "1. Restart.", "seen_version": ""})

    assert response.status_code == 302, response.context["adminform"].form.errors
    article = Article.objects.get()
    assert article.number.startswith("KB") and article.status == KnowledgeStatus.DRAFT
    assert article.created_by == root


def test_publish_publishes_drafts_and_politely_refuses_the_published(admin_client, root,
                                                                     known_error, agent):
    published = services.known_error_create(by=agent, title="Old one", symptoms="Old",
                                            workaround="Old")
    services.knowledge_set_status(record=published, by=root, status=KnowledgeStatus.PUBLISHED)

    response = admin_client.post(f"{URL}/knownerror/", {
        "action": "publish", "_selected_action": [known_error.pk, published.pk]}, follow=True)

    assert response.status_code == 200
    known_error.refresh_from_db()
    assert known_error.status == KnowledgeStatus.PUBLISHED and known_error.published_at
    said = messages_of(response)
    assert f"{published.number} not published: {published.number} is already published." in said
    assert "Published: 1 known error." in said


def test_retire_takes_articles_out_of_use(admin_client, article):
    admin_client.post(f"{URL}/article/", {"action": "retire",
                                          "_selected_action": [article.pk]})
    article.refresh_from_db()
    assert article.status == KnowledgeStatus.RETIRED


def test_agents_with_staff_status_are_not_offered_publish(client, agent, known_error):
    agent.is_staff = True
    agent.save()
    client.force_login(agent)
    response = client.get(f"{URL}/knownerror/")
    assert response.status_code == 200
    offered = response.context["action_form"]
    assert offered is None or "publish" not in dict(offered.fields["action"].choices)
    client.post(f"{URL}/knownerror/", {"action": "publish",
                                       "_selected_action": [known_error.pk]})
    known_error.refresh_from_db()
    assert known_error.status == KnowledgeStatus.DRAFT


# --- suggestions and settings ----------------------------------------------------------------

def test_dismissing_suggestions_goes_through_the_service(admin_client, suggestion):
    page = admin_client.get(f"{URL}/suggestedproblem/")
    assert "<td class=\"field-incident_count\">3</td>" in page.content.decode()

    admin_client.post(f"{URL}/suggestedproblem/", {"action": "dismiss",
                                                   "_selected_action": [suggestion.pk]})
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.DISMISSED

    again = admin_client.post(f"{URL}/suggestedproblem/", {
        "action": "dismiss", "_selected_action": [suggestion.pk]}, follow=True)
    assert any("already dismissed" in message for message in messages_of(again))


def test_the_recurrence_settings_list_is_the_one_rows_form(admin_client):
    response = admin_client.get(f"{URL}/recurrencesettings/")

    settings = RecurrenceSettings.objects.get()
    assert response.status_code == 302
    assert response.url == f"{URL}/recurrencesettings/{settings.pk}/change/"
    assert admin_client.get(response.url).status_code == 200
    assert admin_client.get(f"{URL}/recurrencesettings/add/").status_code == 403
    assert admin_client.get(
        f"{URL}/recurrencesettings/{settings.pk}/delete/").status_code == 403


def test_the_recurrence_settings_are_edited_and_checked(admin_client):
    settings = RecurrenceSettings.load()
    url = f"{URL}/recurrencesettings/{settings.pk}/change/"
    data = {"active": "on", "min_incidents": 4, "window_days": 14, "title_similarity": 0.5,
            "max_title_scan": 1000}

    assert admin_client.post(url, data).status_code == 302
    settings.refresh_from_db()
    assert (settings.min_incidents, settings.window_days) == (4, 14)

    refused = admin_client.post(url, {**data, "min_incidents": 1})
    assert refused.status_code == 200
    settings.refresh_from_db()
    assert settings.min_incidents == 4


def test_incidents_and_problems_are_picked_by_number_or_title(admin_client, problem, incident):
    picked = admin_client.get("/admin/autocomplete/", {
        "app_label": "problems", "model_name": "problemlink", "field_name": "incident",
        "term": incident.number})
    assert picked.status_code == 200 and picked.json()["results"][0]["id"] == str(incident.pk)
    picked = admin_client.get("/admin/autocomplete/", {
        "app_label": "problems", "model_name": "knownerror", "field_name": "problem",
        "term": "mail"})
    assert [r["id"] for r in picked.json()["results"]] == [str(problem.pk)]
