# ClientFlow: `make run` serves the demo, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := clientflow_plugin/static/vendor
export FLASK_APP := host_stub


.PHONY: setup run test lint messages test-sqlite test-browser test-schemathesis \
        test-postgres system-deps assets translations bench clean

setup: $(VENV)/.installed assets translations

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel build
	$(BIN)/pip install -q -e ".[test,server]"
	touch $@

assets: $(VENDOR)/chart.umd.min.js $(VENDOR)/Sortable.min.js

node_modules/.package-lock.json: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

$(VENDOR)/chart.umd.min.js $(VENDOR)/Sortable.min.js: node_modules/.package-lock.json
	mkdir -p $(VENDOR)
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/
	cp node_modules/sortablejs/Sortable.min.js $(VENDOR)/

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -f -d host_stub/translations >/dev/null
	$(BIN)/pybabel compile -f -d clientflow_plugin/translations >/dev/null

# Refresh the Spanish catalogues from the code; translate the new entries in
# the .po files, then `make translations` compiles them.
messages: $(VENV)/.installed
	mkdir -p build
	$(BIN)/pybabel extract -F babel-host.cfg -k _l -o build/host.pot . >/dev/null
	$(BIN)/pybabel extract -F babel-plugin.cfg -k _l -o build/clientflow.pot . >/dev/null
	$(BIN)/pybabel update -N -i build/host.pot -d host_stub/translations -l es
	$(BIN)/pybabel update -N -i build/clientflow.pot -d clientflow_plugin/translations -l es

run: setup
	scripts/run-demo.sh

# Debian's Chromium and fonts for the browser and PDF tests; installed once.
system-deps:
	@if ! command -v chromium >/dev/null || ! fc-list | grep -qi "Noto Sans CJK"; then \
	  echo "installing Chromium and fonts from Debian"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium fonts-dejavu-core fonts-noto-core fonts-noto-cjk >/dev/null; \
	fi

lint: $(VENV)/.installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

# Every stage runs, then one summary: counts per database, each browser test,
# and the schemathesis run (scripts/run-tests.sh says what each stage holds).
test: system-deps setup lint
	scripts/run-tests.sh

test-sqlite: setup
	scripts/run-tests.sh sqlite

test-browser: system-deps setup
	scripts/run-tests.sh browser

test-schemathesis: setup
	scripts/run-tests.sh schemathesis

test-postgres: setup
	scripts/run-tests.sh postgres

# The benchmark of docs/dashboard.md; not a test. Options go through
# BENCH_ARGS, e.g. make bench BENCH_ARGS="--quick --databases sqlite".
bench: setup
	$(BIN)/python -m scripts.bench $(BENCH_ARGS)

clean:
	rm -rf build dist *.egg-info .pytest_cache instance test-output
