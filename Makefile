# pnen-cds: `make serve` installs and runs the service; `make check` runs every check and test.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8080
HOST ?= 127.0.0.1
BIN := $(VENV)/bin
SERVE_STAMP := $(VENV)/.installed-serve
STAMP := $(VENV)/.installed
# The build backend's notices (e.g. the generic one on every editable install) are not ours to fix.
PIP := PYTHONWARNINGS=ignore::UserWarning $(BIN)/pip

.PHONY: serve check test lint types contracts bench bench-short readme terminology examples clean

# What serving needs (make serve), then the test tools on top (make check).
$(SERVE_STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	touch $(SERVE_STAMP)

$(STAMP): $(SERVE_STAMP)
	$(PIP) install --quiet -e ".[test]"
	touch $(STAMP)

serve: $(SERVE_STAMP)
	$(BIN)/pnen-cds serve --dev --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

test: $(STAMP)
	bash .ci/ensure-chromium.sh
	bash .ci/with-postgres.sh $(BIN)/python -m pytest

check: lint types contracts test

readme: $(STAMP) terminology
	$(BIN)/python scripts/update_readme.py

terminology: $(STAMP)
	$(BIN)/python scripts/terminology_page.py

examples: $(STAMP)
	$(BIN)/python scripts/update_examples.py

bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-short: $(STAMP)
	$(BIN)/python bench/run.py --short

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
