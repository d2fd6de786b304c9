# Two commands for a new machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test fast bench validate figures fuzz sweep clean

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

# The front-page figures of README.md, made by the tool from the same run as `make run`.
figures: $(STAMP)
	rm -rf $(VENV)/figures-run
	$(PY) run_sim.py run scenarios/douai/2024.yaml --replications 20 --out $(VENV)/figures-run --name douai-2024 --quiet
	cp $(VENV)/figures-run/douai-2024/production_by_month.png docs/img/douai-2024-production-by-month.png
	cp $(VENV)/figures-run/douai-2024/cumulative_vs_target.png docs/img/douai-2024-cumulative.png

# The long fuzz profile (the fast one runs in `make test`): mutants of every shipped scenario.
fuzz: $(STAMP)
	FUZZ_EXAMPLES=3000 $(PY) -m pytest -q tests/test_fuzz.py -p no:cacheprovider

# The CI sweep on this machine (what .github/workflows/sweep.yml runs in 4 shards), gated.
sweep: $(STAMP)
	rm -rf $(VENV)/sweep-run
	$(PY) run_sim.py sweep scenarios/douai/sweeps/ci.yaml --out $(VENV)/sweep-run --name sweep
	$(PY) run_sim.py gate scenarios/douai/sweeps/ci-gates.yaml $(VENV)/sweep-run/sweep

validate: $(STAMP)
	$(PY) run_sim.py validate

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
