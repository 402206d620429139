# The two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# The phone app's checks (ESLint, Node's own test runner), from package-lock.json.
NODE_MODULES := node_modules/.installed
APP_TESTS := tests/app/*.test.mjs
# Where `make run` serves, such as `make run PORT=8001` when 8000 is taken.
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format worker bench soak safety clean

run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py seed_demo --month --url http://$(HOST):$(PORT)
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev $(NODE_MODULES) lint
	node --test $(APP_TESTS)
	scripts/test-passes

lint: $(VENV)/.installed-dev $(NODE_MODULES)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	node_modules/.bin/eslint

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The hazard log (docs/safety/) with each proving test's latest result, after running them
# on both backends; fails unless every hazard has a control with a passing test.
safety: $(VENV)/.installed-dev
	scripts/test-passes -m hazard -q
	$(BIN)/python -m tests.safety render
	$(BIN)/python -m tests.safety report

# Figures, not pass/fail: on PostgreSQL + Redis (BENCH_QUICK=1 for a one-minute smoke run).
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

# An hour of steady bleeps and reconnect churn: memory slopes and every event accounted for.
SOAK_MINUTES ?= 60
soak: $(VENV)/.installed-dev
	$(BIN)/python -m bench soak --minutes $(SOAK_MINUTES)

worker: $(VENV)/.installed
	$(BIN)/python manage.py worker

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $@ $(VENV)/.installed

# Again whenever package-lock.json changes, exactly as it pins (npm ci starts afresh).
$(NODE_MODULES): package-lock.json
	npm ci --no-audit --no-fund
	touch $@

clean:
	rm -rf $(VENV) node_modules data .pytest_cache .mypy_cache .ruff_cache
