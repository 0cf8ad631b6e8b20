"""A page's next step through the real broker and a real worker process (the other paging
tests run tasks eagerly): the task scheduled for the step's due time runs it once."""

import pytest
from django.db import transaction

from incidents.choices import Level
from oncall.choices import TargetKind
from oncall.models import EscalationPolicy, EscalationStep, PageNotice
from tests.factories import make_incident
from tests.itsm.test_worker import smtp_server, through_the_broker, wait_for, worker  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.usefixtures("through_the_broker")
def test_a_real_worker_runs_the_next_step_at_its_time(request, team, agent, manager, requester):
    process = request.getfixturevalue("worker")
    policy = EscalationPolicy.objects.create(name="Fast paging", team=team)
    first = EscalationStep.objects.create(policy=policy, position=0, target=TargetKind.USERS,
                                          wait_minutes=0)  # the next step is due at once
    first.users.add(agent)
    second = EscalationStep.objects.create(policy=policy, position=1, target=TargetKind.USERS,
                                           wait_minutes=10)
    second.users.add(manager)
    with transaction.atomic():  # the step task is sent when this commits
        incident = make_incident(by=agent, caller=requester, assignment_team=team,
                                 impact=Level.HIGH, urgency=Level.HIGH)

    told = PageNotice.objects.filter(page__incident=incident)
    assert wait_for(lambda: told.filter(step=1, user=manager).exists())
    assert told.count() == 2  # Alice at step 1, Maria at step 2, each once
    assert process.poll() is None
