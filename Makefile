# Everything a fresh clone needs is installed from here (CI runs `make test` via .ci/run).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench clean docs diagrams lock coverage

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Exact versions with their hashes from the lock file; then Tandem itself (no dependencies).
$(STAMP): pyproject.toml requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# After changing dependencies in pyproject.toml (or to take newer releases): re-resolve both lock
# files, hashes included. requirements.lock is what the Docker image installs.
LOCK := $(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links --upgrade
lock: | $(BIN)/python
	$(BIN)/pip install --quiet pip-tools
	$(LOCK) --output-file requirements.lock pyproject.toml
	$(LOCK) --extra dev --output-file requirements-dev.lock pyproject.toml

run: $(STAMP)
	$(BIN)/tandem serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/tandem flows check

test: lint
	$(BIN)/python -m tests.run_all

# Line and branch coverage of the SQLite suite, per package (tests/run_all.py says why it is apart).
coverage: $(STAMP)
	$(BIN)/python -m tests.run_all --coverage

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# After a flow change: the JSON Schema (docs/flow.schema.json) and diagrams (docs/flows/*.md).
docs diagrams: $(STAMP)
	$(BIN)/tandem flows docs

# Every benchmark side by side on PostgreSQL (bench/run.py; flags there scale it up).
bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
