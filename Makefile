# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# On these machines PostgreSQL and Redis are real; when reachable the suite runs against them.
PG_URL ?= postgres://postgres@127.0.0.1:5432/migrator
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: demo test lint typecheck services venv clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(PY) manage.py demo

test: venv
	@# The browser tests drive Debian's Chromium (never `playwright install`); install it once when missing.
	@test -x /usr/bin/chromium || { echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	$(VENV)/bin/ruff check .
	@db="$${DATABASE_URL:-}"; rd="$${REDIS_URL:-}"; \
	if [ -z "$$db" ] && $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then db=$(PG_URL); fi; \
	if [ -z "$$rd" ] && $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 6379), 1)" 2>/dev/null; then rd=$(TEST_REDIS_URL); fi; \
	echo "test database: $${db:-sqlite (PostgreSQL not reachable)}; redis: $${rd:-none (RQ runs in-process)}"; \
	DATABASE_URL="$$db" REDIS_URL="$$rd" MIGRATOR_TEST_REDIS_FLUSH=$$( [ "$$rd" = "$(TEST_REDIS_URL)" ] && echo 1 ) \
	  $(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

typecheck: venv
	$(VENV)/bin/mypy connectors migrator

clean:
	rm -rf $(VENV) var
