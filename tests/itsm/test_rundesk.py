"""The supervisor behind `make run`, exercised with dummy commands instead of the real stack."""

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.core.management.base import CommandError

from itsm.embedded_db import process_alive as _alive
from itsm.management.commands.rundesk import Child, Command, supervise
from itsm.models import User

PROJECT_DIR = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def pid_from(path: Path) -> int:
    assert wait_for(lambda: path.exists() and path.read_text().strip()), f"{path} never written"
    return int(path.read_text())


def sleeper_writing_pid(path: Path) -> list[str]:
    return ["sh", "-c", f"echo $$ > {path}; exec sleep 30"]


def test_it_stops_the_others_when_one_child_exits():
    sleeper = Child("sleeper", ["sleep", "30"])
    quitter = Child("quitter", ["sh", "-c", "echo bye; sleep 0.2; exit 3"])
    out = io.StringIO()

    started = time.monotonic()
    status = supervise([sleeper, quitter], out=out)

    assert status == 3
    assert time.monotonic() - started < 10
    assert sleeper.process.returncode == -signal.SIGINT
    assert "quitter| bye" in out.getvalue()
    assert "quitter exited with status 3; stopping the others" in out.getvalue()


def test_a_child_that_exits_cleanly_still_counts_as_a_failure():
    status = supervise([Child("sleeper", ["sleep", "30"]), Child("done", ["true"])],
                       out=io.StringIO())

    assert status == 1


class ClosedOutput(io.StringIO):
    """Our terminal after Ctrl-C in `make run | tee log`: every write fails."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_output_does_not_stop_it_from_draining_and_supervising():
    # 1 MB is far more than a pipe holds: the child only gets to exit if we keep reading.
    chatty = Child("chatty", ["sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' x | fold -w 99; "
                                          "exit 7"])

    status = supervise([chatty, Child("sleeper", ["sleep", "30"])], out=ClosedOutput())

    assert status == 7


def test_it_escalates_when_a_child_ignores_sigint_and_kills_grandchildren(tmp_path):
    grandchild_pid = tmp_path / "grandchild.pid"
    # A background job of a non-interactive shell ignores SIGINT: only SIGTERM ends it.
    stubborn = Child("stubborn", ["sh", "-c", f"sleep 30 & echo $! > {grandchild_pid}; wait"])
    quitter = Child("quitter", ["sh", "-c", "sleep 0.5; exit 2"])

    started = time.monotonic()
    status = supervise([stubborn, quitter], grace=0.5, out=io.StringIO())

    assert status == 2
    assert time.monotonic() - started < 10
    assert not stubborn.running
    assert wait_for(lambda: not _alive(pid_from(grandchild_pid)), timeout=5)


def run_supervisor_in_background(tmp_path: Path) -> tuple[subprocess.Popen, list[int]]:
    """A real supervisor process with two sleeping children; returns it and their pids."""
    pids = [tmp_path / "one.pid", tmp_path / "two.pid"]
    script = textwrap.dedent(f"""
        import sys
        from itsm.management.commands.rundesk import Child, supervise
        sys.exit(supervise([Child("one", {sleeper_writing_pid(pids[0])!r}),
                            Child("two", {sleeper_writing_pid(pids[1])!r})], grace=5))
    """)
    supervisor = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT_DIR,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return supervisor, [pid_from(p) for p in pids]


def test_it_stops_every_child_on_sigterm_and_exits_zero(tmp_path):
    supervisor, children = run_supervisor_in_background(tmp_path)

    supervisor.send_signal(signal.SIGTERM)
    output, _ = supervisor.communicate(timeout=15)

    assert supervisor.returncode == 0, output
    assert "SIGTERM received, stopping" in output
    assert not any(_alive(pid) for pid in children)


def test_its_children_die_with_it_even_when_it_is_killed(tmp_path):
    supervisor, children = run_supervisor_in_background(tmp_path)

    supervisor.kill()
    supervisor.communicate(timeout=15)

    assert wait_for(lambda: not any(_alive(pid) for pid in children), timeout=5)


def test_it_runs_web_worker_and_beat_on_the_database_scheduler():
    children = Command().children(server="runserver", addr="127.0.0.1:8123", noreload=True,
                                  concurrency=2)

    argv = {child.name: child.argv for child in children}
    assert argv["web"][1:] == ["manage.py", "runserver", "127.0.0.1:8123", "--noreload"]
    assert argv["worker"][1:7] == ["-m", "celery", "-A", "itsm", "worker", "-l"]
    assert "django_celery_beat.schedulers:DatabaseScheduler" in argv["beat"]
    assert all(child.argv[0] == sys.executable for child in children)


def test_the_pid_helper_knows_a_live_process_from_a_gone_one():
    gone = subprocess.Popen(["true"])
    gone.wait()

    assert _alive(os.getpid())
    assert not _alive(gone.pid)


def parse(*argv):
    return vars(Command().create_parser("manage.py", "rundesk").parse_args(argv))


@pytest.mark.django_db
def test_a_production_start_makes_no_demo_logins_and_says_how_to_make_an_admin(settings):
    settings.DEBUG = False
    out = io.StringIO()
    options = parse()

    seeded = Command(stdout=out).load_demo(asked=options["demo"], refused=options["no_seed"])

    assert seeded is False
    assert not User.objects.filter(username="admin").exists()
    assert "demo data skipped (DEBUG is off)" in out.getvalue()
    assert "python manage.py createsuperuser" in out.getvalue()


@pytest.mark.django_db
def test_no_seed_skips_the_demo_even_in_development_mode(settings):
    settings.DEBUG = True
    out = io.StringIO()
    options = parse("--no-seed")

    assert not Command(stdout=out).load_demo(asked=options["demo"], refused=options["no_seed"])
    assert "demo data skipped (--no-seed)" in out.getvalue()
    assert not User.objects.exists()


@pytest.mark.parametrize(("debug", "argv"), [(True, ()), (False, ("--demo",))],
                         ids=["in development mode", "in production when asked"])
def test_the_demo_is_loaded(settings, monkeypatch, debug, argv):
    # seed_demo itself is tested in test_seed.py; here only that rundesk runs it.
    from itsm.management.commands import rundesk

    ran = []
    monkeypatch.setattr(rundesk, "call_command", lambda name, **kw: ran.append(name))
    settings.DEBUG = debug
    options = parse(*argv)

    assert Command(stdout=io.StringIO()).load_demo(asked=options["demo"],
                                                   refused=options["no_seed"])
    assert ran == ["seed_demo"]


def test_demo_and_no_seed_cannot_be_asked_together():
    with pytest.raises(CommandError):
        parse("--demo", "--no-seed")
