PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install lint typecheck bench clean

$(BIN)/iod: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/iod

install: $(BIN)/iod

run: install  ## everything: embedded PostgreSQL + Temporal (UI :8233), worker, API (:8000)
	$(BIN)/iod dev

test: install  ## the whole suite against real PostgreSQL and Temporal, started by the tests
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy .

bench: install
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .iod-data
