# One-command entry points for the service desk (see README.md).
#   make run    install, migrate, seed the demo data, serve http://127.0.0.1:8000 with worker + beat
#   make test   ruff, the migrations check and the whole pytest suite on a throw-away PostgreSQL

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ADDR ?= 127.0.0.1:8000
PYTEST_ARGS ?=
CHROMIUM_PATH ?= /usr/bin/chromium
# Benchmarks run on their own persistent database, loaded once by `make bench-data`.
BENCH_PGDATA ?= $(CURDIR)/.pgdata-bench
BENCH_INCIDENTS ?= 1000000
# The embedded PostgreSQL's data directory when DATABASE_URL is unset (as the settings read it).
PGDATA_DIR := $(or $(EMBEDDED_PGDATA),$(CURDIR)/.pgdata)
# Local commands run in development mode unless DEBUG is set (the settings default is off).
DEV := DEBUG=$${DEBUG:-1}

.PHONY: help install install-dev lock run migrate seed shell test lint fmt check-migrations \
	browser node-tools bench bench-data stop-db clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

# --- installation: idempotent, a no-op while pyproject.toml is unchanged -------------------

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else \
		"Python 3.11 or newer is needed; $(PYTHON) is " + sys.version.split()[0])'
	@echo "Creating $(VENV) with $$($(PYTHON) --version)"
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "'$(PYTHON) -m venv' failed:" \
		"on Debian, apt-get install python3-venv" >&2; exit 1; }

# constraints.txt pins every package to the versions the suite last passed with.
$(VENV)/.installed: pyproject.toml constraints.txt | $(PY)
	@echo "Installing the service desk into $(VENV)"
	$(PY) -m pip install --quiet --constraint constraints.txt --editable .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(PY)
	@echo "Installing the service desk and its development tools into $(VENV)"
	$(PY) -m pip install --quiet --constraint constraints.txt --editable ".[dev]"
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed ## create .venv and install the project

install-dev: $(VENV)/.installed-dev ## install with the test and lint tools

lock: | $(PY) ## re-resolve pyproject.toml's ranges into constraints.txt (then run make test)
	rm -rf $(VENV)-lock && $(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/pip install --quiet --editable ".[dev]"
	{ sed -n '1,2p' constraints.txt; $(VENV)-lock/bin/pip freeze --exclude-editable | grep -v "^itsm-service-desk"; } \
		> constraints.txt.new && mv constraints.txt.new constraints.txt && rm -rf $(VENV)-lock

# Debian's chromium drives the browser tests (Playwright launches $(CHROMIUM_PATH); its own
# browser download is never used).
browser: ## install Debian's chromium for the browser tests when it is missing
	@if [ -x "$(CHROMIUM_PATH)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends \
			chromium fonts-liberation >/dev/null \
		|| echo "WARNING: could not install chromium: the browser tests will not run" >&2; \
	else \
		echo "WARNING: $(CHROMIUM_PATH) is missing and this is not root: the browser tests" \
			"(tests/e2e) need it: sudo apt-get install chromium" >&2; \
	fi

# axe-core (package.json, pinned in package-lock.json) for the browser tests' accessibility
# checks (tests/e2e/test_accessibility.py); reinstalled when either file changes.
AXE := node_modules/axe-core/axe.min.js

$(AXE): package.json package-lock.json
	@if ! command -v npm >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's npm for the accessibility tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			nodejs npm >/dev/null || true; \
	fi; \
	if command -v npm >/dev/null; then \
		echo "Installing axe-core for the accessibility tests (npm ci)"; \
		npm ci --no-audit --no-fund --silent && touch $@; \
	else \
		echo "WARNING: npm is missing: the accessibility tests (tests/e2e/test_accessibility.py)" \
			"need axe-core: apt-get install npm, then make test" >&2; \
	fi

node-tools: $(AXE) ## install axe-core from package-lock.json when it is missing or stale

# --- running --------------------------------------------------------------------------------

run: $(VENV)/.installed ## serve http://127.0.0.1:8000 with a celery worker and beat (Ctrl-C stops all)
	$(DEV) $(PY) manage.py rundesk --addr $(ADDR) $(RUNDESK_ARGS)

migrate: $(VENV)/.installed ## apply the database migrations
	$(DEV) $(PY) manage.py migrate

seed: migrate ## load the demo data (idempotent)
	$(DEV) $(PY) manage.py seed_demo

shell: $(VENV)/.installed ## a Django shell
	$(DEV) $(PY) manage.py shell

# --- checks ---------------------------------------------------------------------------------

lint: $(VENV)/.installed-dev ## ruff
	$(PY) -m ruff check .

fmt: $(VENV)/.installed-dev ## ruff: apply fixes and format
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Each run gets its own PostgreSQL in a fresh temporary directory, deleted when the run ends
# (EMBEDDED_PG_CLEANUP=delete; `make test` lets the migrations check keep it for pytest).
# DATABASE_URL and CELERY_BROKER_URL are ignored on purpose.
define throwaway_db
	tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/itsm-test-XXXXXX"); trap 'rm -rf "$$tmp"' EXIT; \
	export EMBEDDED_PGDATA="$$tmp/pgdata" EMBEDDED_PG_CLEANUP=delete \
		DJANGO_SETTINGS_MODULE=itsm.test_settings; \
	unset DATABASE_URL CELERY_BROKER_URL
endef

check-migrations: $(VENV)/.installed-dev ## fail when models and migrations disagree
	@$(throwaway_db); $(PY) manage.py makemigrations --check --dry-run

test: $(VENV)/.installed-dev browser $(AXE) ## ruff, the migrations check and the whole pytest suite
	$(PY) -m ruff check .
	@$(throwaway_db); \
	echo "makemigrations --check and pytest on a throw-away PostgreSQL in $$EMBEDDED_PGDATA"; \
	EMBEDDED_PG_CLEANUP=stop $(PY) manage.py makemigrations --check --dry-run && \
		$(PY) -m pytest $(PYTEST_ARGS)

bench-data: $(VENV)/.installed ## load the demo and BENCH_INCIDENTS more incidents for make bench
	export EMBEDDED_PGDATA=$(BENCH_PGDATA) $(DEV); $(PY) manage.py migrate && \
		$(PY) manage.py seed_scale --incidents $(BENCH_INCIDENTS)

bench: $(VENV)/.installed-dev ## queue-page timings and query counts (tests/perf, not in make test)
	@[ -d "$(BENCH_PGDATA)" ] || { echo "No benchmark data: run make bench-data first" \
		"(BENCH_INCIDENTS=$(BENCH_INCIDENTS))" >&2; exit 1; }
	EMBEDDED_PGDATA=$(BENCH_PGDATA) $(DEV) $(PY) -m pytest tests/perf -s $(PYTEST_ARGS)

# --- housekeeping ---------------------------------------------------------------------------

stop-db: ## stop the embedded PostgreSQL if it runs (its data is kept)
	@pid=$$(head -n 1 "$(PGDATA_DIR)/postmaster.pid" 2>/dev/null || true); \
	if [ -n "$$pid" ] && [ "$$(ps -o comm= -p "$$pid" 2>/dev/null)" = postgres ]; then \
		echo "Stopping the embedded PostgreSQL (pid $$pid)"; kill -INT "$$pid"; \
		for _ in $$(seq 100); do kill -0 "$$pid" 2>/dev/null || break; sleep 0.1; done; \
	fi

clean: stop-db ## stop the database and remove .venv, .pgdata and build leftovers (not bench data)
	rm -rf $(VENV) .pgdata staticfiles test-artifacts *.egg-info .pytest_cache .ruff_cache \
		node_modules
