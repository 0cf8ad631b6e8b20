"""Known errors and articles: drafting, publishing, editing what agents rely on, applying a
workaround to an incident, and the sanitised Markdown articles are shown in."""

import pytest
from django.template import Context, Template

from incidents.choices import EntryKind, State
from incidents.selectors import timeline_for
from itsm.exceptions import Conflict, Forbidden, InvalidInput
from problems import services
from problems.choices import KnowledgeStatus, ProblemEntryKind
from problems.markdown import render_markdown
from problems.models import Article, KnownError, ProblemLink, WorkaroundApplication
from tests.factories import CategoryFactory, ServiceFactory

pytestmark = pytest.mark.django_db

K = KnowledgeStatus


def fresh(row):
    return type(row).objects.get(pk=row.pk)


@pytest.fixture
def diagnosed(problem, agent):
    """`problem` with its cause, workaround, service and category recorded."""
    return services.problem_update(
        problem=problem, by=agent, description="Outlook shows 'Disconnected' all morning.",
        root_cause="The relay's TLS certificate expired.",
        workaround="Send through the backup relay smtp2.", service=ServiceFactory(name="E-mail"),
        category=CategoryFactory(name="Software"))


@pytest.fixture
def known_error(agent):
    return services.known_error_create(by=agent, title="VPN drops on hotel Wi-Fi",
                                       symptoms="The VPN disconnects every few minutes.",
                                       workaround="Switch the client to TCP 443.")


@pytest.fixture
def published(known_error, problem_manager):
    return services.knowledge_set_status(record=known_error, by=problem_manager,
                                         status=K.PUBLISHED)


@pytest.fixture
def article(agent):
    return services.article_create(by=agent, title="Resetting an MFA token",
                                   body="1. Open the portal\n2. Choose *Reset*")


# --- known errors from problems --------------------------------------------------------------

def test_a_known_error_from_a_problem_copies_its_cause_and_workaround_as_a_draft(
    diagnosed, agent
):
    known_error = services.known_error_from_problem(problem=diagnosed, by=agent)

    assert known_error.status == K.DRAFT
    assert known_error.published_at is None
    assert known_error.number.startswith("KE") and len(known_error.number) == 9
    assert (known_error.title, known_error.symptoms, known_error.root_cause,
            known_error.workaround, known_error.problem) == (
        diagnosed.title, "Outlook shows 'Disconnected' all morning.",
        "The relay's TLS certificate expired.", "Send through the backup relay smtp2.",
        diagnosed)
    assert list(known_error.services.all()) == [diagnosed.service]
    assert list(known_error.categories.all()) == [diagnosed.category]
    line = diagnosed.timeline.last()
    assert (line.kind, line.new_value) == (ProblemEntryKind.KNOWN_ERROR, known_error.number)


def test_a_problem_without_a_workaround_makes_no_known_error(problem, agent):
    with pytest.raises(InvalidInput) as err:
        services.known_error_from_problem(problem=problem, by=agent)
    assert "workaround" in err.value.field_errors
    assert not KnownError.objects.exists()


def test_only_those_who_work_the_problem_raise_its_known_error(diagnosed, other_agent):
    with pytest.raises(Forbidden):
        services.known_error_from_problem(problem=diagnosed, by=other_agent)
    assert not KnownError.objects.exists()


def test_a_known_error_needs_symptoms_and_a_workaround(agent):
    with pytest.raises(InvalidInput) as err:
        services.known_error_create(by=agent, title="VPN drops", symptoms=" ", workaround="")
    assert set(err.value.field_errors) == {"symptoms", "workaround"}
    assert not KnownError.objects.exists()


def test_a_requester_writes_no_knowledge(requester):
    with pytest.raises(Forbidden):
        services.article_create(by=requester, title="Tips", body="Restart it.")
    assert not Article.objects.exists()


# --- publishing ------------------------------------------------------------------------------

def test_a_problem_manager_publishes_and_retires(known_error, problem_manager):
    record = services.knowledge_set_status(record=known_error, by=problem_manager,
                                           status=K.PUBLISHED, version=known_error.version)
    assert fresh(record).status == K.PUBLISHED
    assert fresh(record).published_at is not None

    services.knowledge_set_status(record=record, by=problem_manager, status=K.RETIRED)
    assert fresh(record).status == K.RETIRED


@pytest.mark.parametrize("who", ["agent", "manager", "other_agent"])
@pytest.mark.parametrize("status", [K.PUBLISHED, K.RETIRED])
def test_nobody_else_publishes_or_retires(known_error, article, request, who, status):
    for record in (known_error, article):
        with pytest.raises(Forbidden, match="problem managers"):
            services.knowledge_set_status(record=record, by=request.getfixturevalue(who),
                                          status=status)
        assert fresh(record).status == K.DRAFT


def test_publishing_what_is_published_is_a_conflict(published, problem_manager):
    with pytest.raises(Conflict, match="already published"):
        services.knowledge_set_status(record=published, by=problem_manager, status=K.PUBLISHED)


def test_publishing_a_stale_version_is_a_conflict(known_error, agent, problem_manager):
    seen = known_error.version
    services.known_error_update(known_error=known_error, by=agent, title="VPN drops on Wi-Fi")
    with pytest.raises(Conflict, match="changed by someone else"):
        services.knowledge_set_status(record=known_error, by=problem_manager,
                                      status=K.PUBLISHED, version=seen)
    assert fresh(known_error).status == K.DRAFT


def test_an_unknown_status_is_bad_input(known_error, problem_manager):
    with pytest.raises(InvalidInput):
        services.knowledge_set_status(record=known_error, by=problem_manager, status="live")


# --- editing ---------------------------------------------------------------------------------

def test_any_agent_edits_a_draft(known_error, other_agent):
    services.known_error_update(known_error=known_error, by=other_agent,
                                workaround="Use the web client meanwhile.")
    row = fresh(known_error)
    assert row.workaround == "Use the web client meanwhile."
    assert row.version == known_error.version + 1


def test_editing_a_published_known_error_needs_a_problem_manager(published, agent,
                                                                 problem_manager):
    with pytest.raises(Forbidden):
        services.known_error_update(known_error=published, by=agent, workaround="Reboot.")
    assert fresh(published).workaround == "Switch the client to TCP 443."

    services.known_error_update(known_error=published, by=problem_manager,
                                workaround="Switch the client to TCP 443, then reconnect.")
    assert fresh(published).workaround == "Switch the client to TCP 443, then reconnect."


@pytest.mark.parametrize("status", [K.PUBLISHED, K.RETIRED])
def test_editing_a_published_or_retired_article_needs_a_problem_manager(
    article, agent, problem_manager, status
):
    article = services.knowledge_set_status(record=article, by=problem_manager, status=status)
    with pytest.raises(Forbidden):
        services.article_update(article=article, by=agent, body="Call the desk.")
    assert fresh(article).body.startswith("1. Open the portal")
    services.article_update(article=article, by=problem_manager, body="Call the desk.")
    assert fresh(article).body == "Call the desk."


def test_an_edit_cannot_empty_a_required_field(known_error, agent):
    with pytest.raises(InvalidInput) as err:
        services.known_error_update(known_error=known_error, by=agent, workaround="  ")
    assert "workaround" in err.value.field_errors
    assert fresh(known_error).workaround == "Switch the client to TCP 443."


def test_a_stale_edit_is_refused(known_error, agent, other_agent):
    seen = known_error.version
    services.known_error_update(known_error=known_error, by=agent, title="VPN drops on Wi-Fi")
    with pytest.raises(Conflict):
        services.known_error_update(known_error=known_error, by=other_agent, version=seen,
                                    title="VPN unstable")
    assert fresh(known_error).title == "VPN drops on Wi-Fi"


def test_an_article_audience_must_be_one_of_the_choices(article, agent):
    with pytest.raises(InvalidInput) as err:
        services.article_update(article=article, by=agent, audience="public")
    assert "audience" in err.value.field_errors


# --- applying a workaround -------------------------------------------------------------------

def test_applying_a_workaround_records_it_on_the_incidents_timeline_for_agents(
    published, incident, agent, requester
):
    application = services.workaround_apply(known_error=published, incident=incident, by=agent)

    assert (application.known_error, application.incident, application.applied_by) == (
        published, incident, agent)
    [line] = [e for e in timeline_for(incident=incident, user=agent)
              if e.kind == EntryKind.PROBLEM]
    assert published.number in line.body
    assert "Switch the client to TCP 443." in line.body
    assert line.new_code == {"known_error": published.number}
    assert not [e for e in timeline_for(incident=incident, user=requester)
                if e.kind == EntryKind.PROBLEM]


def test_a_workaround_is_applied_once_per_incident(published, incident, agent, other_agent):
    services.workaround_apply(known_error=published, incident=incident, by=agent)
    with pytest.raises(Conflict, match="already applied"):
        services.workaround_apply(known_error=published, incident=incident, by=other_agent)
    assert WorkaroundApplication.objects.count() == 1
    assert incident.timeline.filter(kind=EntryKind.PROBLEM).count() == 1


def test_the_same_workaround_applies_to_another_incident(published, agent, team_incidents):
    for other in team_incidents(2, "in_progress"):
        services.workaround_apply(known_error=published, incident=other, by=agent)
    assert WorkaroundApplication.objects.filter(known_error=published).count() == 2


@pytest.mark.parametrize("status", [K.DRAFT, K.RETIRED])
def test_only_published_workarounds_are_applied(known_error, problem_manager, incident, agent,
                                                status):
    if status == K.RETIRED:
        known_error = services.knowledge_set_status(record=known_error, by=problem_manager,
                                                    status=status)
    with pytest.raises(Conflict, match="only published"):
        services.workaround_apply(known_error=known_error, incident=incident, by=agent)
    assert not WorkaroundApplication.objects.exists()


@pytest.mark.parametrize("state", ["resolved", "closed", "canceled"])
def test_a_workaround_is_applied_only_to_an_open_incident(published, agent, team_incidents,
                                                          state):
    [done] = team_incidents(1, state)
    with pytest.raises(Conflict, match="open incident"):
        services.workaround_apply(known_error=published, incident=done, by=agent)
    assert not WorkaroundApplication.objects.exists()
    assert not done.timeline.filter(kind=EntryKind.PROBLEM).exists()


def test_a_requester_cannot_apply_a_workaround(published, incident, requester):
    with pytest.raises(Forbidden):
        services.workaround_apply(known_error=published, incident=incident, by=requester)
    assert not WorkaroundApplication.objects.exists()


def test_applying_links_the_incident_to_the_known_errors_problem(
    diagnosed, agent, problem_manager, team_incidents
):
    known_error = services.known_error_from_problem(problem=diagnosed, by=agent)
    known_error = services.knowledge_set_status(record=known_error, by=problem_manager,
                                                status=K.PUBLISHED)
    [other] = team_incidents(1, "in_progress")

    services.workaround_apply(known_error=known_error, incident=other, by=agent)

    assert fresh(other).problem_link.problem == diagnosed
    line = diagnosed.timeline.filter(kind=ProblemEntryKind.LINKED).last()
    assert line.body == f"Workaround {known_error.number} applied"
    assert other.number in line.codes["incidents"]


def test_applying_leaves_an_incident_linked_to_another_problem_where_it_is(
    diagnosed, agent, problem_manager, team_incidents
):
    known_error = services.known_error_from_problem(problem=diagnosed, by=agent)
    known_error = services.knowledge_set_status(record=known_error, by=problem_manager,
                                                status=K.PUBLISHED)
    [other] = team_incidents(1, "in_progress")
    elsewhere = services.problem_create(by=agent, incidents=[other], title="Relay DNS")

    services.workaround_apply(known_error=known_error, incident=other, by=agent)

    assert fresh(other).problem_link.problem == elsewhere


def test_applying_does_not_link_to_a_finished_problem(
    diagnosed, agent, problem_manager, team_incidents
):
    known_error = services.known_error_from_problem(problem=diagnosed, by=agent)
    known_error = services.knowledge_set_status(record=known_error, by=problem_manager,
                                                status=K.PUBLISHED)
    services.problem_transition(problem=diagnosed, by=problem_manager, name="cancel",
                                note="Vendor replaced the relay.")
    [other] = team_incidents(1, "in_progress")

    services.workaround_apply(known_error=known_error, incident=other, by=agent)

    assert not ProblemLink.objects.filter(incident=other).exists()


def test_applying_a_workaround_leaves_the_incident_open(published, incident, agent):
    services.workaround_apply(known_error=published, incident=incident, by=agent)
    assert fresh(incident).state == State.NEW


# --- Markdown --------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "forbidden"), [
    ("<script>alert('x')</script>Restart the relay.", ["<script", "alert("]),
    ("Hello <SCRIPT SRC=https://evil.example/x.js></SCRIPT>", ["<script", "evil.example"]),
    ('<img src="https://example.com/a.png" onerror="alert(1)">', ["onerror", "alert"]),
    ('<img src=x onerror=alert(1)>', ["onerror", "alert"]),
    ('<a href="https://example.com" onclick="steal()">docs</a>', ["onclick", "steal"]),
    ('<div onmouseover="steal()">hover</div>', ["onmouseover", "steal"]),
    ("[click me](javascript:alert(1))", ["javascript:", "alert"]),
    ('<a href="JaVaScRiPt:alert(1)">x</a>', ["javascript:", "alert"]),
    ('<a href="&#106;avascript:alert(1)">x</a>', ["javascript:", "alert"]),
    ("[x](data:text/html;base64,PHNjcmlwdD4=)", ["data:"]),
    ("![pixel](data:image/png;base64,iVBORw0KGgo=)", ["data:"]),
    ('<iframe src="https://evil.example/"></iframe>After', ["<iframe", "evil.example"]),
    ('<p style="position:fixed;top:0">cover</p>', ["style=", "position"]),
    ('[a](https://example.com){: style="color:red" onclick="x()" }', ["style=", "onclick"]),
    ('<form action="https://evil.example/"><input name="password"></form>',
     ["<form", "<input", "evil.example"]),
    ('<svg onload="alert(1)"><circle r="4"/></svg>', ["<svg", "onload"]),
    ('<object data="https://evil.example/x.swf"></object>', ["<object", "evil.example"]),
    ("<style>body{display:none}</style>Text", ["<style", "display:none"]),
])
def test_dangerous_html_never_survives_rendering(text, forbidden):
    html = str(render_markdown(text)).lower()
    for fragment in forbidden:
        assert fragment.lower() not in html


def test_the_text_around_dangerous_html_is_kept():
    assert "Restart the relay." in render_markdown("<script>x()</script>Restart the relay.")


def test_images_load_only_from_http_urls():
    html = render_markdown("![a](https://example.com/a.png) ![b](/media/b.png) "
                           "![c](ftp://example.com/c.png)")
    assert 'src="https://example.com/a.png"' in html
    assert "/media/b.png" not in html
    assert "ftp://" not in html


def test_links_open_without_giving_the_desk_away():
    html = render_markdown("[vendor](https://vendor.example/kb/42)")
    assert html == ('<p><a href="https://vendor.example/kb/42" '
                    'rel="noopener noreferrer nofollow">vendor</a></p>')


def test_ordinary_markdown_renders():
    text = "\n".join([
        "# Resetting the relay", "", "## Before you start", "",
        "- check the *queue*", "- tell the **desk**", "", "1. stop it", "2. start it", "",
        "```bash", "systemctl restart postfix", "```", "", "| host | role |", "| --- | :-: |",
        "| smtp1 | main |", "", "Run `mailq` and see [the runbook](https://wiki.example/relay).",
        "", "> quoted", "", "---", "", "Relay", ": the host that forwards mail",
    ])
    html = render_markdown(text)
    for fragment in ["<h1>Resetting the relay</h1>", "<h2>Before you start</h2>",
                     "<li>check the <em>queue</em></li>", "<strong>desk</strong>",
                     "<ol>\n<li>stop it</li>", '<pre><code class="language-bash">'
                     "systemctl restart postfix", "<table>", "<th>host</th>",
                     '<th align="center">role</th>', "<td>smtp1</td>", "<code>mailq</code>",
                     'href="https://wiki.example/relay"', "<blockquote>", "<hr>",
                     "<dt>Relay</dt>", "<dd>the host that forwards mail</dd>"]:
        assert fragment in html


def test_markdown_code_shows_html_as_text():
    assert render_markdown("`<script>alert(1)</script>`") == (
        "<p><code>&lt;script&gt;alert(1)&lt;/script&gt;</code></p>")


def test_empty_markdown_renders_nothing():
    assert render_markdown("") == ""


def test_the_template_filter_renders_sanitised_markdown_unescaped():
    template = Template("{% load markdown %}<article>{{ body|markdown }}</article>")
    html = template.render(Context({"body": "**Restart** it<script>x()</script>"}))
    assert html == "<article><p><strong>Restart</strong> it</p></article>"


def test_the_template_filter_treats_nothing_as_empty():
    template = Template("{% load markdown %}{{ body|markdown }}")
    assert template.render(Context({"body": None})) == ""
