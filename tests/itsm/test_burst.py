"""A burst of parallel requests to the server `make run` starts never runs out of database
connections: each process borrows from a bounded pool (settings: DB_POOL_SIZE) and a request
waits for a free connection instead of failing."""

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from itsm.management.commands.rundesk import Command

# The server must see the test's rows; the rollback keeps the roles data migrations made.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BURST = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The URL the settings were given, pointed at the test database."""
    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit(parts._replace(path=f"/{connection.settings_dict['NAME']}"))


@pytest.fixture
def server():
    """The web server exactly as `make run` starts it (DEBUG on), on the test database."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url(), "DEBUG": "1",
           "DJANGO_SETTINGS_MODULE": "itsm.settings", "PYTHONUNBUFFERED": "1"}
    argv = Command.web_argv(server="gunicorn", addr=f"127.0.0.1:{port}", noreload=True)
    process = subprocess.Popen(argv, cwd=settings.BASE_DIR, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail(f"runserver did not start: {process.stderr.read().decode()[-6000:]}")
    yield base
    process.terminate()
    process.wait(timeout=10)


def test_a_burst_of_parallel_requests_all_succeed(server, agent, incident):
    client = Client()
    client.force_login(agent)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    paths = ["/incidents/?view=open", f"/incidents/{incident.number}/", "/api/v1/incidents/",
             "/healthz"]

    def fetch(n: int) -> int | str:
        request = urllib.request.Request(server + paths[n % len(paths)],
                                         headers={"Cookie": cookie})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError as error:
            return type(error).__name__

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=BURST) as pool:
        outcomes = Counter(pool.map(fetch, range(BURST)))
    print(f"{BURST} parallel requests in {time.monotonic() - started:.1f} s: {dict(outcomes)}")
    assert outcomes == {200: BURST}
    with connection.cursor() as cursor:  # the server kept within its pool
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                       [connection.settings_dict["NAME"]])
        (connections,) = cursor.fetchone()
    assert connections <= 2 * settings.DB_POOL_SIZE + 1  # two workers, and this test
