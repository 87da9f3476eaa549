# Two commands set everything up on a fresh machine (no root needed):
#   make briefings   create .venv, install briefgen, build every case and audience into output/
#   make test        create .venv if needed, install the test tools, run the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
AXE    := tests/a11y/node_modules/axe-core/axe.min.js

.PHONY: briefings test check lint typecheck bench clean bytecode

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# The package's bytecode, written even where PYTHONDONTWRITEBYTECODE is set (as pip does
# for an installed wheel): without it every command compiles briefgen afresh (~0.1 s).
bytecode: $(STAMP)
	@PYTHONDONTWRITEBYTECODE= $(BIN)/python -m compileall -q briefgen >/dev/null

briefings: bytecode
	$(BIN)/briefgen build

check: bytecode
	$(BIN)/briefgen check --archive ../shared/seeds

# axe-core for the accessibility tests, from the npm registry at the version locked in
# tests/a11y/package-lock.json. Without npm those tests skip (they need node and chromium).
$(AXE): tests/a11y/package.json tests/a11y/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix tests/a11y --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the axe-core accessibility tests will be skipped"; fi

test: bytecode $(AXE)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check briefgen tests bench
	$(BIN)/ruff format --check briefgen tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

bench: bytecode
	$(BIN)/python bench/run.py

clean:
	rm -rf output/*/ build dist *.egg-info $(STAMP)
