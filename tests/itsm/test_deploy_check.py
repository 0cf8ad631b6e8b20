"""The production environment README documents passes `manage.py check --deploy`."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

PROJECT_DIR = Path(__file__).resolve().parents[2]


def documented_production_env() -> dict[str, str]:
    """The KEY=value lines of the first sh block under README's "### Production"."""
    readme = (PROJECT_DIR / "README.md").read_text()
    section = readme.split("### Production", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    env = dict(line.split("=", 1) for line in block.splitlines() if line.strip())
    assert env["SECRET_KEY"].startswith("<")  # a placeholder: fill it as the README says
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    return env


def run_deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {name: os.environ[name] for name in ("PATH", "HOME", "TMPDIR", "XDG_RUNTIME_DIR")
            if name in os.environ}
    # The test database's server, so the settings need not start one of their own.
    base["DATABASE_URL"] = settings.DATABASE_URL
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_DIR, env={**base, **env}, capture_output=True, text=True, timeout=120,
    )


def test_the_documented_production_environment_passes_the_deploy_check():
    env = documented_production_env()
    assert env["DEBUG"] == "0"

    result = run_deploy_check(env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deploy_check_names_what_a_bare_production_start_lacks():
    result = run_deploy_check({"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50)})

    assert result.returncode != 0
    assert "security.W004" in result.stderr  # HSTS is opt-in
    assert "security.W008" not in result.stderr  # the HTTPS redirect is on by default
    assert "security.W012" not in result.stderr  # so are secure cookies
