# Two commands for a newcomer: `make run` starts the whole system, `make test` proves it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SUM := $(shell cksum pyproject.toml | cut -d' ' -f1)
# What running needs (every service and the command), and, for tests, the test tools too.
RUN_STAMP := $(VENV)/.installed-run-$(SUM)
STAMP := $(VENV)/.installed-dev-$(SUM)

.PHONY: run test test-unit test-fast bench schema lint images clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	@echo "Installing Peerline and what it runs on (the first time takes a minute or two)..."
	$(BIN)/python -m pip install --progress-bar on -e '.[all]'
	@rm -f $(VENV)/.installed-run-* && touch $@

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/peerline up

# Two workers, each taking whole files: most tests wait on servers and timers, so two
# run in about the time of one (decision 55); a file's fixtures stay in one worker. The
# compose tests run first and alone: their eleven containers need both cores.
PYTEST = $(BIN)/python -m pytest -n 2 --dist loadfile

test: $(STAMP)
	$(BIN)/python -m pytest -m compose
	$(PYTEST) -m "not compose"

# The rules and use cases: no server, no network, a SQLite file at most (under 30 seconds).
test-unit: $(STAMP)
	PEERLINE_QUICK_PROPERTIES=1 $(BIN)/python -m pytest -m unit -q

# Everything but the end-to-end, fault and compose tests, for a quick loop while editing.
test-fast: $(STAMP)
	$(PYTEST) -m "not e2e and not faults and not compose"

bench: $(STAMP)
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/consume.py
	$(BIN)/python bench/sqlite_statements.py
	$(BIN)/python bench/matching.py
	$(BIN)/python bench/timers.py
	$(BIN)/python bench/metrics.py
	$(BIN)/python bench/portal.py
	$(BIN)/python bench/security.py
	$(BIN)/python bench/sizing.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/requests.py

# A Docker engine, Compose v2 and the images deploy/compose.yaml needs, built locally
# (deploy/build-local-images.sh; needs root the first time, skips what exists).
images: $(STAMP)
	PYTHON=$(BIN)/python deploy/build-local-images.sh

# Format and fix what ruff can (a test checks the tree is clean).
lint: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

# Regenerate the contract files in docs/contract/ (a test checks they are current).
schema: $(STAMP)
	$(BIN)/peerline schema export docs/contract

clean:
	rm -rf $(VENV) .peerline
