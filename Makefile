# Two entry points: `make demo` (set up, open the console on the demo estate) and `make test`
# (set up, run lint, types, import contracts and the whole test suite).

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AZURITE := .tools/node_modules/.bin/azurite-blob
AZ_VENV := .tools/az
AZ := $(AZ_VENV)/bin/az
AZ_EXTENSIONS := $(AZ_VENV)/extensions
AZ_GRAPH := $(AZ_EXTENSIONS)/resource-graph

.PHONY: setup az bytecode demo test lint typecheck contracts pytest clean

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

# azure-cli, a client the product does not use, for the emulator's compatibility tests. It pins older management
# packages than ours, so it lives in a virtualenv of its own; the resource-graph extension comes from its wheel
# (`az extension add` would look it up online). Without it the az tests skip on a developer machine; CI (CI=true)
# treats a missing az as a failure.
AZ_CLI_VERSION := 2.91.0
AZ_GRAPH_VERSION := 2.0.0

$(AZ):
	@test -n "$(PYTHON)" || { echo "azure-cli needs Python >= 3.11"; exit 1; }
	$(PYTHON) -m venv $(AZ_VENV)
	$(AZ_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(AZ_VENV)/bin/python -m pip install --quiet azure-cli==$(AZ_CLI_VERSION) || { rm -rf $(AZ_VENV); \
		echo "azure-cli install failed: its tests will skip"; exit 0; }

$(AZ_GRAPH): $(AZ)
	@test -x $(AZ) || exit 0; \
	rm -rf $(AZ_VENV)/wheels && mkdir -p $(AZ_VENV)/wheels && \
	$(AZ_VENV)/bin/python -m pip download --quiet --no-deps resource-graph==$(AZ_GRAPH_VERSION) -d $(AZ_VENV)/wheels && \
	cfg=$$(mktemp -d) && AZURE_CONFIG_DIR=$$cfg AZURE_EXTENSION_DIR=$(CURDIR)/$(AZ_EXTENSIONS) \
		$(AZ) extension add --source $(AZ_VENV)/wheels/resource_graph-$(AZ_GRAPH_VERSION)-py2.py3-none-any.whl -y \
		--only-show-errors; rc=$$?; rm -rf $$cfg; \
	test $$rc -eq 0 || echo "resource-graph extension install failed: az graph tests will skip"

az: $(AZ_GRAPH)

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

pytest: setup $(AZURITE) $(AZ_GRAPH)
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
