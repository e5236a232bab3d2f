# The two quick-start commands:  `make run`  (set up + start the service)  and  `make test`  (set up + run the tests).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# CPU build of torch first, so nothing pulls a multi-GB CUDA build. On a GPU machine: make TORCH_SPEC=torch run
TORCH_SPEC ?= torch==2.13.0
# loadgroup: tests marked xdist_group share a worker (the Ray tests' one cluster); the rest spread as with load
PYTEST_ARGS ?= -n 2 --dist loadgroup

.PHONY: setup run worker lint test bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH_SPEC)"
	$(BIN)/pip install -q -e '.[ml,ray,test]'
	touch $@

setup: $(BIN)/.installed

run: setup  ## start the API on http://127.0.0.1:8000 (docs at /docs) with local workers, SQLite under ./data
	$(BIN)/sftaudit serve

worker: setup  ## a worker on its own (how GPU machines join; point SFTAUDIT_DATABASE_URL at the shared PostgreSQL)
	$(BIN)/sftaudit worker

lint: setup  ## the house rules: ruff (lint + format check), mypy against its shrinking baseline, import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python tools/mypy_baseline.py
	$(BIN)/lint-imports --no-cache

test: lint  ## the house rules, then the whole suite, on SQLite and PostgreSQL (127.0.0.1:5432, or SFTAUDIT_TEST_PG_URL)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
