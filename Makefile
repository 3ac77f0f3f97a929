# pnen-cds: `make serve` installs and runs the service; `make check` runs every check and test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Exact versions with hashes of every dependency, test tools included (`make lock` regenerates it).
LOCK := requirements/lock.txt

.PHONY: serve check test lint types contracts bench bench-short readme lock clean

# Reproducible installs: the locked, hash-checked dependencies, then this package without any.
$(STAMP): setup.cfg pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# After changing the dependencies in setup.cfg: pin them again (pip-tools in a venv of its own).
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet pip-tools
	.venv-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe --extra test \
		--strip-extras --no-emit-index-url --no-emit-find-links --output-file $(LOCK) setup.cfg

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

readme: $(STAMP)
	$(BIN)/python scripts/update_readme.py

bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-short: $(STAMP)
	$(BIN)/python bench/run.py --short

clean:
	rm -rf $(VENV) .venv-lock .pytest_cache .mypy_cache .ruff_cache .hypothesis
