# Everything a fresh clone needs is installed from here (CI runs `make test` via .ci/run).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint test-sqlite test-postgres format bench clean docs diagrams

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/tandem serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/tandem flows check

test: lint
	$(BIN)/python -m tests.run_all

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
