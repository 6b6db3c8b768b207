# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app app
DEV := KOHTAAMO_ENV=development

.PHONY: run test test-sqlite test-postgres install translations migrate seed bench screens clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

translations: install
	$(BIN)/python -m core.i18n_tools compile

migrate: translations
	$(DEV) $(FLASK) db upgrade

seed: migrate
	$(DEV) $(FLASK) seed-demo --if-empty

run: seed
	@echo "Kohtaamo on http://127.0.0.1:$(PORT)  (stop with Ctrl+C)"
	$(DEV) $(FLASK) run --host 127.0.0.1 --port $(PORT)

# The whole suite on SQLite (browser tests included), then the database tests again on
# PostgreSQL. REQUIRE_BROWSER=1 / REQUIRE_POSTGRES=1 turn a missing Chromium or server into failures.
test: test-sqlite test-postgres

# Two workers for the machine's two cores; a test module stays on one worker.
PYTEST := $(BIN)/python -m pytest -q -n $(or $(TEST_WORKERS),2) --dist loadfile

test-sqlite: translations
	$(PYTEST)

test-postgres: translations
	KOHTAAMO_TEST_DB=postgres $(PYTEST) -m "not browser"

# Pages are measured with wrk (Debian's package, installed here when missing and run as root);
# BENCH_ARGS passes options, e.g. BENCH_ARGS="--duration 2 --rounds 1 --databases sqlite".
bench: translations
	command -v wrk >/dev/null || [ "$$(id -u)" != 0 ] \
		|| { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache

# Screenshots of the five main tasks at 360 and 1280 px into docs/screens/ (tools/screens.py:
# demo data on a temporary SQLite database, Debian's Chromium through Playwright).
screens: translations
	$(BIN)/python -m tools.screens
