# Two commands: `make run` and `make test`. Both create .venv and install what is needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test demo install bench check-config clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else "Python 3.11+ is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/monitor run

test: $(STAMP)
	$(PY) -m pytest -q

# The whole service offline on the shipped scenarios, in about a minute (see README).
demo: $(STAMP)
	$(VENV)/bin/monitor demo

check-config: $(STAMP)
	$(VENV)/bin/monitor check-config

bench: $(STAMP)
	for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache
