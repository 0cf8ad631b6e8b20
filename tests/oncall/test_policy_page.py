"""Managers keep escalation policies on their own page: a policy and its steps, validated
like the admin, and never touching pages already running."""

import pytest

from oncall.choices import TargetKind
from oncall.models import EscalationPolicy, EscalationStep

URL = "/oncall/policies/new/"


def form(team, **changes):
    data = {"name": "Night paging", "team": team.pk, "priorities": ["1", "2"], "repeat": 1,
            "active": "on", "steps-TOTAL_FORMS": 1, "steps-INITIAL_FORMS": 0,
            "steps-MIN_NUM_FORMS": 0, "steps-MAX_NUM_FORMS": 1000,
            "steps-0-position": 0, "steps-0-target": TargetKind.SCHEDULE,
            "steps-0-wait_minutes": 7}
    data.update(changes)
    return data


def test_a_manager_creates_a_policy_with_its_steps(as_user, manager, team, roster):
    response = as_user(manager).post(URL, form(team, **{"steps-0-schedule": roster.pk}),
                                     follow=True)
    assert "Night paging saved" in response.content.decode()
    policy = EscalationPolicy.objects.get(name="Night paging")
    assert policy.priorities == [1, 2]
    step = EscalationStep.objects.get(policy=policy)
    assert (step.schedule, step.wait_minutes) == (roster, 7)


def test_a_manager_edits_and_removes_steps(as_user, manager, policy, agent):
    first, second = policy.steps.order_by("position")
    client = as_user(manager)
    page = client.get(f"/oncall/policies/{policy.pk}/edit/")
    assert page.status_code == 200 and page.content.decode().count('data-testid="step"') == 3
    data = form(policy.team, name="Service desk paging", **{
        "steps-TOTAL_FORMS": 2, "steps-INITIAL_FORMS": 2,
        "steps-0-id": first.pk, "steps-0-schedule": first.schedule_id,
        "steps-0-wait_minutes": 3,
        "steps-1-id": second.pk, "steps-1-position": 1, "steps-1-target": TargetKind.USERS,
        "steps-1-users": [agent.pk], "steps-1-wait_minutes": 10, "steps-1-DELETE": "on"})
    response = client.post(f"/oncall/policies/{policy.pk}/edit/", data)
    assert response.status_code == 302
    assert list(policy.steps.values_list("wait_minutes", flat=True)) == [3]


@pytest.mark.parametrize("changes, message", [
    ({}, "Choose the schedule whose on-call person is notified."),
    ({"steps-0-target": TargetKind.USERS}, "Choose at least one person."),
    ({"steps-0-target": TargetKind.TEAM}, "Choose the team."),
    ({"steps-TOTAL_FORMS": 0}, "A policy needs at least one step"),
    ({"name": ""}, "This field is required."),
    ({"priorities": ["9"]}, "Select a valid choice."),
    ({"steps-0-wait_minutes": "-1"}, "greater than or equal to 0"),
])
def test_a_bad_policy_is_refused_and_nothing_saved(as_user, manager, team, changes, message):
    response = as_user(manager).post(URL, form(team, **changes))
    assert response.status_code == 400 and message in response.content.decode()
    assert not EscalationPolicy.objects.filter(name="Night paging").exists()


def test_agents_and_requesters_cannot_change_policies(as_user, agent, requester, policy):
    for person in (agent, requester):
        client = as_user(person)
        assert client.get(URL).status_code == 403
        assert client.post(f"/oncall/policies/{policy.pk}/edit/", {}).status_code == 403
    assert 'data-testid="edit-policy"' not in as_user(agent).get("/oncall/policies/") \
        .content.decode()
