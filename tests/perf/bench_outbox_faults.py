"""Fault run of the outbox: N notifications to a slow SMTP server while the worker (with its
embedded beat) is killed with SIGKILL K times; counts what arrived once, twice, or never.
A message arrives twice only when a kill falls between the server taking it and the worker
hearing so (`--slow-at accept` widens that window on purpose).

Runs on the current database with the real broker, like the other benchmarks:

    EMBEDDED_PGDATA=/tmp/pg-bench EMBEDDED_PG_CLEANUP=keep DEBUG=1 \\
        .venv/bin/python tests/perf/bench_outbox_faults.py --messages 200 --kills 10

The rows it writes are keyed `fault-run-…`; they stay in the outbox table, sent.
"""

import argparse
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings")
    import django

    django.setup()


def start_worker(smtp_url: str) -> subprocess.Popen:
    from django.conf import settings

    env = {**os.environ, "DATABASE_URL": settings.DATABASE_URL,
           "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "EMAIL_URL": smtp_url,
           "CELERY_TASK_ALWAYS_EAGER": "", "SECRET_KEY": settings.SECRET_KEY}
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "itsm", "worker", "-B", "--concurrency", "2",
         "-l", "error", "-s", f"/tmp/fault-run-beat-{os.getpid()}", "--without-gossip",
         "--without-mingle", "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def kill(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)


def run(*, messages: int, kills: int, delay: float, slow_at: str = "greeting", seed: int = 1,
        out=print) -> bool:
    from django.db import transaction

    from itsm.choices import DeliveryStatus
    from itsm.models import Notification, User
    from itsm.notifications import notification_queue
    from tests.smtp import SMTPServer

    rng = random.Random(seed)
    run_id = f"fault-run-{uuid.uuid4().hex[:8]}"
    people = list(User.objects.exclude(email="")[:messages]) or [User.objects.first()]
    with SMTPServer(delay=delay, slow_at=slow_at) as smtp:
        worker = start_worker(smtp.url)
        started = time.monotonic()
        with transaction.atomic():  # delivery tasks go to the broker when this commits
            for n in range(messages):
                notification_queue(key=f"{run_id}-{n}", recipients=[people[n % len(people)]],
                                   subject=f"{run_id} #{n}", body="Fault run.")
        rows = Notification.objects.filter(key__startswith=run_id)
        for k in range(kills):
            time.sleep(rng.uniform(1.0, 3.0))
            kill(worker)
            sent = rows.filter(status=DeliveryStatus.SENT).count()
            out(f"kill {k + 1}: {sent} of {messages} marked sent so far")
            worker = start_worker(smtp.url)
        deadline = time.monotonic() + 300
        while rows.exclude(status=DeliveryStatus.SENT).exists() and time.monotonic() < deadline:
            time.sleep(1)
        drained = time.monotonic() - started
        kill(worker)
        with smtp.lock:
            received = Counter(line.removeprefix("Subject: ") for message in smtp.messages
                               for line in message.splitlines() if line.startswith("Subject: "))
    expected = {f"{run_id} #{n}" for n in range(messages)}
    lost = expected - set(received)
    twice = {s: c for s, c in received.items() if c > 1}
    statuses = Counter(rows.values_list("status", flat=True))
    out(f"\nOutbox fault run: {messages} messages, SMTP slow by {delay:.2f} s at the {slow_at}, "
        f"worker (with embedded beat) killed {kills} times")
    out(f"rows by status: {dict(statuses)}; drained in {drained:.0f} s")
    out(f"received once: {sum(1 for c in received.values() if c == 1)}, "
        f"more than once: {len(twice)}, never: {len(lost)}")
    return not lost and statuses == {DeliveryStatus.SENT: messages}


def test_outbox_fault_run(django_db_blocker):
    """pytest entry point: the real database and broker (no test DB); use -s."""
    with django_db_blocker.unblock():
        assert run(messages=int(os.environ.get("BENCH_MESSAGES", "200")),
                   kills=int(os.environ.get("BENCH_KILLS", "10")), delay=0.1, seed=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--delay", type=float, default=0.1, help="seconds SMTP takes per mail")
    parser.add_argument("--slow-at", choices=["greeting", "accept"], default="greeting",
                        help="where SMTP is slow: answering at all, or confirming a message "
                             "it has taken (the window in which a kill makes a duplicate)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    setup_django()
    ok = run(messages=args.messages, kills=args.kills, delay=args.delay, slow_at=args.slow_at,
             seed=args.seed)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
