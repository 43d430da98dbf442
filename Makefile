# flowc: `make demo` and `make test` work on a fresh machine (they create .venv and node_modules).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLOWC := $(VENV)/bin/flowc
RUNTIME_STAMP := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed
# SkyPilot's validator lives in its own venv: skypilot pins versions Airflow cannot share.
SKY_VENV ?= .venv-sky
# Examples step-functions refuses at their source line (tests/golden/<example>/step_functions.json.error).
SFN_REFUSED := examples/decorators.py
SKY_STAMP := $(SKY_VENV)/.installed

.PHONY: demo test lint venv node tools bench bench-smoke fuzz faults clean

venv: $(STAMP)

# flowc and its pinned runtime dependencies only: all `make demo` needs.
$(RUNTIME_STAMP): pyproject.toml requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# The test stack (Airflow, moto, hypothesis, ...) on top.
$(STAMP): $(RUNTIME_STAMP) requirements-test.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

node: node_modules/.installed

$(SKY_STAMP): requirements-sky.txt
	$(PYTHON) -m venv $(SKY_VENV)
	$(SKY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-sky.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: $(RUNTIME_STAMP)
	@rm -rf build && mkdir -p build
	$(FLOWC) compile examples/*.py --target ir -o build/
	$(FLOWC) compile examples/*.py --target argo -o build/
	$(FLOWC) compile $(filter-out $(SFN_REFUSED),$(wildcard examples/*.py)) --target step-functions --datastore s3://flowc-demo/flowc -o build/
	@echo "(examples/decorators.py is not compiled for step-functions, which refuses it at its lines: it places steps with"
	@echo " @kubernetes settings Batch cannot express; tests/golden/decorators/step_functions.json.error)"
	$(FLOWC) compile examples/*.py --target airflow -o build/
	@echo "compiled: $$(ls build | wc -l) files in build/"
	$(FLOWC) run examples/foreach.py --datastore build/datastore --run-id demo
	$(FLOWC) report ForeachFlow/demo --datastore build/datastore -o build/report.html
	@echo "next: flowc show ForeachFlow/demo --datastore build/datastore; open build/report.html (the run report)"

# Debian packages the tests drive: Chromium renders the run report, tmux gives `flowc run` a terminal.
tools:
	@command -v chromium >/dev/null && command -v tmux >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium tmux >/dev/null; }

test: venv node tools $(SKY_STAMP) lint
	$(PY) -m pytest -q

# ruff, as configured in pyproject.toml: lint and format are checked, never rewritten, by `make test`.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: venv
	$(PY) benchmarks/bench.py

bench-smoke: venv
	$(PY) benchmarks/bench.py --smoke

fuzz: venv node
	FLOWC_FUZZ_EXAMPLES=$${FLOWC_FUZZ_EXAMPLES:-400} FLOWC_FUZZ_RUNS=$${FLOWC_FUZZ_RUNS:-20} $(PY) -m pytest -q tests/test_fuzz.py

faults: venv
	$(PY) benchmarks/faults.py

clean:
	rm -rf build .pytest_cache
