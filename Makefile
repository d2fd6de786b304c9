# Two commands for a new machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test fast bench validate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) run_sim.py run scenarios/douai/2024.yaml --replications 20

test: $(STAMP)
	$(PY) -m pytest -q

fast: $(STAMP)
	$(PY) -m pytest -q -m 'not slow'

bench: $(STAMP)
	$(PY) bench/bench_reference_line.py

validate: $(STAMP)
	$(PY) run_sim.py validate

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
