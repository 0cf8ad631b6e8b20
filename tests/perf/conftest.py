"""Benchmarks run only when asked (`pytest tests/perf -s`) and against the current database.

Files are named `bench_*.py` so the default run never collects them, even without the
`--ignore=tests/perf` in pyproject; this hook collects them when tests/perf is named.
"""

import pytest


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".py" and file_path.name.startswith("bench_"):
        return pytest.Module.from_parent(parent, path=file_path)
    return None
