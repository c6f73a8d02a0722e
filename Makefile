# Two commands set everything up on a machine with Python 3.11 and make:
#   make run    create the environment and process the sample landing zone data/raw
#   make test   create the environment and run the test suite
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := 3.11

.PHONY: all setup browser run lint test bench notebook clean

all: run

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	@touch $@

setup: .venv/.synced

run: setup
	$(UV) run --frozen news-pipeline run

# Debian's Chromium renders the Data Docs in a test; installed when missing and we may (root with apt-get).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; } || \
	  echo "note: chromium not installed; the Data Docs browser test will be skipped"

# Ruff's rules are listed in pyproject.toml ([tool.ruff]).
lint: setup
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

test: lint browser
	$(UV) run --frozen pytest

bench: setup
	$(UV) run --frozen python -m benchmarks.run

# JupyterLab from the locked dev dependencies: opens offline, reads the data folder make run wrote.
notebook: setup
	$(UV) run --frozen jupyter lab notebooks/explore.ipynb

clean:
	rm -rf data/curated data/quarantine data/state data/reports
