# Staffel: `make test` runs the whole suite on a fresh machine (creates .venv, installs, checks).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser pango run demo-federation test lint imports typecheck pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The browser tests drive Debian's chromium (never a browser downloaded at run time).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get

# WeasyPrint (the Übergabebogen's PDF) needs Pango; Debian's chromium brings it, this makes sure.
pango:
	@if ! ldconfig -p | grep -q 'libpango-1.0.so.0' || ! ldconfig -p | grep -q 'libpangoft2-1.0.so.0'; then \
		echo "installing Pango for WeasyPrint (PDF)"; \
		$(APT) install -y libpango-1.0-0 libpangoft2-1.0-0 \
		|| { $(APT) update && $(APT) install -y libpango-1.0-0 libpangoft2-1.0-0; }; \
	fi

# The tests' npm packages (tests/oidc): the real OpenID provider and axe-core for the browser
# tests' accessibility check, pinned by one lock file, installed with the machine's Node.js.
# Without npm the OpenID and browser tests skip (under CI=true: fail).
OIDC_STAMP := tests/oidc/node_modules/.installed
$(OIDC_STAMP): tests/oidc/package.json tests/oidc/package-lock.json
	@if command -v npm >/dev/null; then \
		cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error && touch .installed \
		&& mv .installed node_modules/.installed; \
	elif [ "$$CI" = true ]; then echo "npm (Node.js) is needed for the OpenID tests"; exit 1; \
	else echo "no npm: the OpenID provider tests (tests/oidc) will skip"; fi

install: $(STAMP) browser pango $(OIDC_STAMP)

browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		$(APT) install -y chromium \
		|| { $(APT) update && $(APT) install -y chromium; }; \
	fi

run: $(STAMP)
	$(BIN)/staffel serve --demo

demo-federation: $(STAMP)
	$(BIN)/staffel demo-federation

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The layering contracts of pyproject.toml's [tool.importlinter], and no HTTP in the use cases.
imports: $(STAMP)
	$(BIN)/lint-imports
	@if grep -rn "fastapi\|starlette" service_layer/; then \
		echo "service_layer/ must not use fastapi or starlette"; exit 1; fi

typecheck: $(STAMP)
	$(BIN)/mypy

# One pytest worker per core (pytest-xdist); a test module stays on one worker, with its own
# PostgreSQL database (tests/conftest.py). PYTEST_WORKERS=0 runs everything in one process.
PYTEST_WORKERS ?= auto
pytest: $(STAMP) browser pango $(OIDC_STAMP)
	$(BIN)/pytest --numprocesses=$(PYTEST_WORKERS) --dist=loadfile

test: lint imports typecheck pytest

bench: $(STAMP)
	$(BIN)/python bench/store.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
