# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app app
DEV := KOHTAAMO_ENV=development

.PHONY: run lint test test-sqlite test-lost-commit test-postgres install translations migrate seed bench screens clean

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

# Fast checks first (seconds): ruff, mypy on the app packages (pyproject.toml), and the
# dependency direction between the packages (core/layers.py, docs/ARCHITECTURE.md).
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m core.layers

# Lint, the whole suite on SQLite (browser tests included), then the database tests again on
# PostgreSQL. REQUIRE_BROWSER=1 / REQUIRE_POSTGRES=1 turn a missing Chromium or server into failures.
test: lint test-sqlite test-lost-commit test-postgres

# Two workers for the machine's two cores; a test module stays on one worker.
PYTEST := $(BIN)/python -m pytest -q -n $(or $(TEST_WORKERS),2) --dist loadfile

# The SQLite run records which tests stored something through a request (tests/lost_commit.py).
LOST_COMMIT := .pytest_cache/lost-commit

test-sqlite: translations
	rm -rf $(LOST_COMMIT)
	KOHTAAMO_RECORD_WRITES=$(LOST_COMMIT) $(PYTEST)

# Those tests again with the request's commit lost (a flush, then a rollback): each must fail.
# Green only when every one of them failed (docs/ARCHITECTURE.md, "The lost-commit check").
test-lost-commit: translations
	cat $(LOST_COMMIT)/*.txt | sort > $(LOST_COMMIT)/expected
	@echo "lost-commit check: $$(wc -l < $(LOST_COMMIT)/expected) tests stored through a request; each must fail"
	KOHTAAMO_LOST_COMMIT=$(LOST_COMMIT)/expected $(PYTEST) @$(LOST_COMMIT)/expected

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
