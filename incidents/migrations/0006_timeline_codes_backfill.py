"""Give the timeline rows written before events their codes, from the labels they show.

Set-based SQL (a handful of UPDATEs whatever the row count). Labels are frozen here as they
were shown until now. Names that no longer match exactly one team or person (renamed,
ambiguous) keep a null code; the shown values are never changed.
"""

from django.db import migrations

STATES = [("New", "new"), ("In progress", "in_progress"), ("On hold", "on_hold"),
          ("Resolved", "resolved"), ("Closed", "closed"), ("Canceled", "canceled")]
PRIORITIES = [("P1 – Critical", 1), ("P2 – High", 2), ("P3 – Moderate", 3), ("P4 – Low", 4)]
LEVELS = [("High", "high"), ("Medium", "medium"), ("Low", "low")]
CHANNELS = [("Web", "web"), ("Phone", "phone"), ("Email", "email"), ("API", "api"),
            ("Monitoring", "monitoring")]


def values(pairs) -> str:
    def cast(code) -> str:
        return f"{code}::int" if isinstance(code, int) else f"'{code}'::text"

    rows = ", ".join(f"('{label}', to_jsonb({cast(code)}))" for label, code in pairs)
    return f"(VALUES {rows})"


TEAM = "(SELECT min(t.id) FROM itsm_team t WHERE t.name = {part} HAVING count(*) = 1)"
PERSON = ("(SELECT min(u.id) FROM itsm_user u WHERE trim(u.first_name || ' ' || u.last_name) "
          "= {part} OR (u.username = {part}) HAVING count(*) = 1)")


def owner(column: str) -> str:
    team = f"nullif(split_part({column}, ' / ', 1), '—')"
    person = f"nullif(split_part({column}, ' / ', 2), '—')"
    return (f"jsonb_build_object('team', {TEAM.format(part=team)}, "
            f"'assignee', {PERSON.format(part=person)})")


SQL = [
    # Transitions: the state codes on both sides.
    f"""UPDATE incidents_timelineentry e
           SET from_state = o.code #>> '{{}}', to_state = n.code #>> '{{}}',
               old_code = o.code, new_code = n.code
          FROM {values(STATES)} o(label, code), {values(STATES)} n(label, code)
         WHERE e.kind = 'transition' AND e.event_id IS NULL
           AND e.old_value = o.label AND e.new_value = n.label""",
    # Creation: the state, and the priority it showed.
    f"""UPDATE incidents_timelineentry e
           SET to_state = 'new',
               new_code = jsonb_build_object('state', 'new', 'priority', p.code)
          FROM {values(PRIORITIES)} p(label, code)
         WHERE e.kind = 'created' AND e.event_id IS NULL AND e.new_value = p.label""",
    # Field changes to choice fields: label → code on each side (an empty side stays null).
    *[f"""UPDATE incidents_timelineentry e
             SET old_code = (SELECT c.code FROM {values(pairs)} c(label, code)
                             WHERE c.label = e.old_value),
                 new_code = (SELECT c.code FROM {values(pairs)} c(label, code)
                             WHERE c.label = e.new_value)
           WHERE e.kind = 'field_change' AND e.event_id IS NULL AND e.field = '{field}'"""
      for field, pairs in [("priority", PRIORITIES), ("impact", LEVELS), ("urgency", LEVELS),
                           ("channel", CHANNELS)]],
    # Free-text fields: the value is its own code.
    """UPDATE incidents_timelineentry e
          SET old_code = to_jsonb(nullif(e.old_value, '')),
              new_code = to_jsonb(nullif(e.new_value, ''))
        WHERE e.kind = 'field_change' AND e.event_id IS NULL
          AND e.field IN ('title', 'description')""",
    """UPDATE incidents_timelineentry e
           SET old_code = to_jsonb((SELECT s.id FROM itsm_service s WHERE s.name = e.old_value)),
               new_code = to_jsonb((SELECT s.id FROM itsm_service s WHERE s.name = e.new_value))
         WHERE e.kind = 'field_change' AND e.event_id IS NULL AND e.field = 'service'""",
    # Assignment and escalation: "Team / Person" on each side.
    f"""UPDATE incidents_timelineentry e
           SET old_code = {owner('e.old_value')}, new_code = {owner('e.new_value')}
         WHERE e.kind IN ('assignment', 'escalation') AND e.event_id IS NULL""",
    f"""UPDATE incidents_timelineentry e
           SET new_code = to_jsonb({PERSON.format(part='e.new_value')})
         WHERE e.kind = 'notification' AND e.event_id IS NULL""",
]


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0005_timeline_codes"),
        ("itsm", "0003_outbox"),
    ]

    operations = [migrations.RunSQL(sql, migrations.RunSQL.noop) for sql in SQL]
