# Two entry points: `make demo` (set up, open the console on the demo estate) and `make test`
# (set up, run lint, types, import contracts and the whole test suite).

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AZURITE := .tools/node_modules/.bin/azurite-blob

.PHONY: setup bytecode demo test lint typecheck contracts pytest clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "azml-console needs Python >= 3.11 (python3.11 or newer on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Azurite (npm), the Azure Storage emulator the datastore browsing tests use. Without npm they skip on a
# developer machine; CI (CI=true) treats a missing Azurite as a failure.
$(AZURITE):
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: Azurite not installed, its tests will skip"; exit 0; }; \
	npm install --prefix .tools --no-audit --no-fund azurite@3 || echo "Azurite install failed: its tests will skip"

setup: $(STAMP)

# Our modules compiled ahead, as pip does for installed packages: start-up then reads bytecode even where
# PYTHONDONTWRITEBYTECODE is set (compiling them on every launch costs ~25 ms before the first frame).
bytecode: setup
	@$(BIN)/python -m compileall -q console screens services themes emulator >/dev/null

demo: bytecode
	$(BIN)/azml --demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

contracts: setup
	$(BIN)/lint-imports

# With gnome-keyring and dbus installed, the tests run inside their own D-Bus session with a fresh, unlocked
# Secret Service whose keyring files live under .tools/keyring (never the developer's own login keyring).
# Without them the keyring tests skip on a developer machine; CI (CI=true) treats that as a failure.
KEYRING_HOME := $(CURDIR)/.tools/keyring

pytest: setup $(AZURITE)
	@if command -v dbus-run-session >/dev/null 2>&1 && command -v gnome-keyring-daemon >/dev/null 2>&1; then \
		rm -rf "$(KEYRING_HOME)" && mkdir -p "$(KEYRING_HOME)" && \
		dbus-run-session -- sh -c 'printf %s azml-test | XDG_DATA_HOME="$(KEYRING_HOME)" \
			gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec $(BIN)/pytest $(PYTEST_ARGS)'; \
	else \
		echo "gnome-keyring / dbus-run-session not found: the keyring tests will skip"; \
		$(BIN)/pytest $(PYTEST_ARGS); \
	fi

test: lint typecheck contracts pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
