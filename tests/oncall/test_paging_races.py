"""Paging on real connections: an acknowledgement racing a step, and two workers with one step.

Each thread has its own database connection; these fail if the services stop locking the page
row or comparing its step token under the lock.
"""

import threading
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connections

from incidents.choices import Level
from itsm.choices import DeliveryStatus
from itsm.events import subscribed
from itsm.models import Notification
from itsm.notifications import notifications_sweep
from oncall import events, services
from oncall.choices import PageState
from oncall.models import Page, PageNotice
from tests.factories import make_incident
from tests.oncall.conftest import BERLIN

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
TUESDAY = datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)


def in_thread(call):
    outcome = {}

    def run():
        try:
            outcome["result"] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.fixture
def paging(policy, team, agent, requester):
    with time_machine.travel(TUESDAY, tick=False) as traveller:
        incident = make_incident(by=agent, caller=requester, assignment_team=team,
                                 impact=Level.HIGH, urgency=Level.HIGH)
        yield Page.objects.get(incident=incident), traveller


def test_an_acknowledgement_racing_a_firing_step_leaves_nothing_to_send(paging, agent,
                                                                       manager):
    page, traveller = paging
    traveller.shift(timedelta(minutes=5))
    firing, release = threading.Event(), threading.Event()

    def slow_step(event):  # holds the step's transaction open, page row locked
        firing.set()
        release.wait(10)

    with subscribed(events.PageStepsFired, slow_step):
        step, step_outcome = in_thread(lambda: services.page_run_step(
            page_id=page.pk, token=str(page.token)))
        assert firing.wait(10)
        ack, ack_outcome = in_thread(lambda: services.page_acknowledge(page=page, by=agent))
        ack.join(0.5)
        assert ack.is_alive(), "the acknowledgement waits for the step's lock"
        release.set()
        step.join(10)
        ack.join(10)
    assert step_outcome.get("result") is True and "error" not in ack_outcome
    page.refresh_from_db()
    assert page.state == PageState.ACKNOWLEDGED
    # The step's messages were written before the acknowledgement; whatever had not gone out
    # when it committed was withdrawn, and nothing goes out afterwards.
    ours = Notification.objects.filter(key__startswith=f"page:{page.pk}:")
    assert ours.filter(key__startswith=f"page:{page.pk}:1:0:").exists()
    assert not ours.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]).exists()
    sent = ours.filter(status=DeliveryStatus.SENT).count()
    traveller.shift(timedelta(hours=1))
    assert services.pages_tick().fired == 0
    notifications_sweep()
    assert ours.filter(status=DeliveryStatus.SENT).count() == sent


def test_one_step_on_two_workers_notifies_once(paging, manager):
    page, traveller = paging
    traveller.shift(timedelta(minutes=5))
    barrier = threading.Barrier(2)

    def worker():
        barrier.wait(10)
        return services.page_run_step(page_id=page.pk, token=str(page.token))

    threads = [in_thread(worker) for _ in range(2)]
    for thread, _ in threads:
        thread.join(20)
    assert sorted(outcome.get("result") for _, outcome in threads) == [False, True]
    assert PageNotice.objects.filter(page=page, step=1, user=manager).count() == 1
    assert Notification.objects.filter(key__startswith=f"page:{page.pk}:1:0:",
                                       recipient=manager).count() == 2  # in-app + e-mail
