# pnen-cds: `make serve` installs and runs the service; `make check` runs every check and test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve check test lint types contracts bench bench-short readme terminology clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/pnen-cds serve --dev

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

bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-short: $(STAMP)
	$(BIN)/python bench/run.py --short

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
