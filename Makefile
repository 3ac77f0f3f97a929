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
# Exact versions with hashes of every dependency, test tools included (`make lock` regenerates it).
LOCK := requirements/lock.txt

.PHONY: serve check test lint types contracts bench bench-short readme terminology examples messages lock clean

# Reproducible installs: the locked, hash-checked dependencies, then this package without any.
# One lock for serving and testing: `make serve` installs the test tools too (never imported).
$(SERVE_STAMP): setup.cfg pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet --require-hashes -r $(LOCK)
	$(PIP) install --quiet --no-deps -e .
	touch $(SERVE_STAMP)

$(STAMP): $(SERVE_STAMP)
	touch $(STAMP)

# After changing the dependencies in setup.cfg: pin them again (pip-tools in a venv of its own).
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet pip-tools
	.venv-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe --extra test \
		--strip-extras --no-emit-index-url --no-emit-find-links --output-file $(LOCK) setup.cfg

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

# Message catalogues (pnen_i18n/locale): extract every `_()`/`N_()`/`ngettext()` message into the
# template, merge it into each language's catalogue (new messages arrive untranslated: the
# catalogue tests then fail until they are translated), and compile the catalogues the service reads.
I18N := pnen_i18n
messages: $(STAMP)
	$(BIN)/pybabel --quiet extract --mapping-file babel.cfg --no-location --sort-output \
		--no-wrap --output-file $(I18N)/messages.pot \
		--project pnen-cds --copyright-holder "pnen-cds" --msgid-bugs-address "" .
	$(BIN)/pybabel --quiet update --input-file $(I18N)/messages.pot --output-dir $(I18N)/locale \
		--domain messages --no-fuzzy-matching --ignore-obsolete --no-wrap
	$(BIN)/python scripts/compile_messages.py

examples: $(STAMP)
	$(BIN)/python scripts/update_examples.py

bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-short: $(STAMP)
	$(BIN)/python bench/run.py --short

clean:
	rm -rf $(VENV) .venv-lock .pytest_cache .mypy_cache .ruff_cache .hypothesis
