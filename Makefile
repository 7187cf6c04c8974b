# Two commands do all setup on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export DAGSTER_HOME := $(CURDIR)/data/dagster_home
export VIDPIPE_ROOT := $(CURDIR)

.PHONY: demo test dev bench bench-qc setup clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

# The instance lives wholly under $(DAGSTER_HOME) (absolute); deploy/dagster.local.yaml is copied there once.
setup: $(VENV)/.installed
	@mkdir -p $(DAGSTER_HOME)
	@cp -n deploy/dagster.local.yaml $(DAGSTER_HOME)/dagster.yaml 2>/dev/null || true
	$(PY) launch.py setup

demo: setup
	$(PY) launch.py render demo

test: $(VENV)/.installed
	rm -f .coverage .coverage.*
	COVERAGE_FILE=$(CURDIR)/.coverage $(PY) -m pytest -q -rs --cov --cov-report=term:skip-covered

DEV_PORT ?= 3000
dev: setup
	$(PY) -m vidpipe.devserver -w workspace.yaml --port $(DEV_PORT)

bench: $(VENV)/.installed
	$(PY) benchmarks/run_all.py

# The labelled QC benchmark alone: precision/recall per code and false blocking on clean clips.
bench-qc: $(VENV)/.installed
	$(PY) -m benchmarks.qc_bench.run

clean:
	rm -rf data/media data/dagster_home data/vidpipe.duckdb
