from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_and_migrations_agree():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)


@pytest.mark.django_db
def test_the_backfill_gives_rows_written_before_events_their_codes(team, agent, l2_team):
    """The data migration's SQL, run on rows as the old services wrote them (labels only)."""
    import importlib

    from django.db import connection

    from incidents.models import TimelineEntry
    from tests.factories import make_incident

    backfill = importlib.import_module("incidents.migrations.0006_timeline_codes_backfill")
    incident = make_incident(by=agent, assignment_team=team, state="resolved")
    TimelineEntry.objects.filter(incident=incident).update(
        event_id=None, from_state="", to_state="", old_code=None, new_code=None)
    TimelineEntry.objects.create(incident=incident, kind="field_change", field="impact",
                                 old_value="Medium", new_value="High", at=incident.opened_at)
    TimelineEntry.objects.create(incident=incident, kind="escalation", field="assignment",
                                 old_value="Service Desk / Alice Agent",
                                 new_value="Network L2 / —", at=incident.opened_at)

    with connection.cursor() as cursor:
        for sql in backfill.SQL:
            cursor.execute(sql)

    rows = {(e.kind, e.field or e.to_state): e for e in incident.timeline.all()}
    assert rows[("created", "new")].new_code == {"state": "new", "priority": 3}
    transitions = incident.timeline.filter(kind="transition")
    assert [(e.from_state, e.to_state) for e in transitions] == [
        ("new", "in_progress"), ("in_progress", "resolved")]
    impact = rows[("field_change", "impact")]
    assert (impact.old_code, impact.new_code) == ("medium", "high")
    escalation = rows[("escalation", "assignment")]
    assert (escalation.old_code, escalation.new_code) == (
        {"team": team.pk, "assignee": agent.pk}, {"team": l2_team.pk, "assignee": None})


@pytest.mark.django_db
def test_drf_tokens_made_before_keep_working_but_only_their_hash_is_kept(requester):
    """The data migration, run on a token as DRF stored it (the key in plain text)."""
    import importlib

    from django.apps import apps
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from itsm.models import ApiToken

    migration = importlib.import_module("itsm.migrations.0005_hash_existing_api_tokens")
    old = Token.objects.create(user=requester)

    migration.hash_tokens(apps, None)

    assert not Token.objects.exists()
    token = ApiToken.objects.get(user=requester)
    assert (token.prefix, token.created_at) == (old.key[:8], old.created)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {old.key}")
    assert client.get("/api/v1/incidents/").status_code == 200
