# Two commands for a new machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test fast bench validate figures screenshots fuzz sweep clean

# The development install is pure Python (edits take effect at once); the compiled engine
# (setup.py: mypyc) is a real `pip install .` of this tree into $(COMPILED), which `run` and
# the compiled leg of `test` put first on the path (PYTHONSAFEPATH: not the source tree).
COMPILED := $(VENV)/compiled
CSTAMP   := $(COMPILED)/.built
SOURCES  := setup.py pyproject.toml $(shell find sim -name '*.py' -o -name '*.yaml' -o -name '*.j2')
WITH_COMPILED := PYTHONSAFEPATH=1 PYTHONPATH=$(CURDIR)/$(COMPILED)
# The compiled leg: the engine, its analytic cases, the bit-identity check against pure
# Python, and the parallel paths (process pools, a Dask LocalCluster) that pickle results.
COMPILED_TESTS := tests/engine tests/verify tests/experiments/test_replications.py \
	tests/experiments/test_sweep.py

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	DOUAI_SIM_PURE=1 $(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# `build/` is setuptools' scratch space: a stale one would leak old extensions into the install.
$(CSTAMP): $(STAMP) $(SOURCES)
	rm -rf build $(COMPILED)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --target $(COMPILED) .
	rm -rf build
	@echo "engine: $$($(WITH_COMPILED) $(PY) -c 'import sim.engine as e; print(e.build())')"
	touch $(CSTAMP)

run: $(CSTAMP)
	$(WITH_COMPILED) $(PY) run_sim.py run scenarios/douai/2024.yaml --replications 20

# Pure Python first (every test), then the compiled leg, where there is a compiled engine
# (no C compiler: a warning at build time and pure Python only, unless
# DOUAI_SIM_REQUIRE_COMPILED=1, as in CI, which then fails).
test: $(CSTAMP)
	$(PY) -m pytest -q -m 'not compiled'
	@if [ "$$($(WITH_COMPILED) $(PY) -c 'import sim.engine as e; print(e.build())')" = mypyc ] \
	    || [ "$(DOUAI_SIM_REQUIRE_COMPILED)" = 1 ]; then \
	  echo "compiled leg: $(COMPILED_TESTS)"; \
	  $(WITH_COMPILED) $(PY) -m pytest -q -m 'not pure' $(COMPILED_TESTS); \
	else echo "no compiled engine on this machine: the compiled leg is skipped"; fi

fast: $(STAMP)
	$(PY) -m pytest -q -m 'not slow and not compiled'

bench: $(STAMP)
	$(PY) bench/bench_reference_line.py

# The front-page figures of README.md, made by the tool from the same run as `make run`.
figures: $(STAMP)
	rm -rf $(VENV)/figures-run
	$(PY) run_sim.py run scenarios/douai/2024.yaml --replications 20 --out $(VENV)/figures-run --name douai-2024 --quiet
	cp $(VENV)/figures-run/douai-2024/production_by_month.png docs/img/douai-2024-production-by-month.png
	cp $(VENV)/figures-run/douai-2024/cumulative_vs_target.png docs/img/douai-2024-cumulative.png

# Screenshots of report.html as a planner first sees it (headless Chromium, from Debian's
# packages; installed here when missing): the Douai 2025 base and its no-night comparison.
CHROMIUM = chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--hide-scrollbars --user-data-dir=$(VENV)/chromium-profile --window-size=1100,1500
screenshots: $(STAMP)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	rm -rf $(VENV)/shots
	$(PY) run_sim.py run scenarios/douai/2025.yaml -n 3 --out $(VENV)/shots --name douai-2025 --quiet
	$(PY) run_sim.py compare scenarios/douai/2025.yaml scenarios/douai/2025-no-night.yaml -n 3 --out $(VENV)/shots --name compare --quiet
	$(CHROMIUM) --screenshot=$(CURDIR)/docs/img/report-douai-2025.png file://$(CURDIR)/$(VENV)/shots/douai-2025/report.html
	$(CHROMIUM) --screenshot=$(CURDIR)/docs/img/report-compare-no-night.png file://$(CURDIR)/$(VENV)/shots/compare/report.html

# The long fuzz profile (the fast one runs in `make test`): mutants of every shipped scenario.
fuzz: $(STAMP)
	FUZZ_EXAMPLES=3000 $(PY) -m pytest -q tests/cli/test_fuzz.py -p no:cacheprovider

# The CI sweep on this machine (what .github/workflows/sweep.yml runs in 4 shards), gated.
sweep: $(STAMP)
	rm -rf $(VENV)/sweep-run
	$(PY) run_sim.py sweep scenarios/douai/sweeps/ci.yaml --out $(VENV)/sweep-run --name sweep
	$(PY) run_sim.py gate scenarios/douai/sweeps/ci-gates.yaml $(VENV)/sweep-run/sweep

validate: $(STAMP)
	$(PY) run_sim.py validate

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
