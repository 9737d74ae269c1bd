# Every target installs what it needs, so each works on a fresh Debian machine
# and is safe to run again.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMPS := $(VENV)/.stamps
RAW    ?= data/raw
OUT    ?= data/clean

.PHONY: setup run test lint corpus lexicon eval eval-quick bench bench-quick notebook cluster-demo clean help

help:
	@echo "make run    - set up if needed, process $(RAW) into $(OUT)"
	@echo "make test   - set up if needed, run the tests"
	@echo "make lint   - ruff and mypy"
	@echo "make eval   - score text restoration against ground truth (fails below the targets)"
	@echo "make bench  - measure speed and memory (benchmarks/results/bench.json)"
	@echo "make notebook - run the analysts' notebook on $(OUT)"
	@echo "make cluster-demo - run the sample corpus on a local Dask scheduler and two workers"
	@echo "make lexicon  - rebuild the lexicon and context caches (after editing lexicons/)"
	@echo "make corpus - regenerate the sample corpus in $(RAW) from data/fixtures"
	@echo "make setup  - install system packages and the virtualenv"
	@echo "make clean  - remove outputs and the virtualenv"

setup: $(STAMPS)/system $(STAMPS)/venv $(STAMPS)/lexicon

$(STAMPS)/system: scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/venv: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@mkdir -p $(STAMPS) && touch $@

# The lexicon and context caches live in ~/.cache/minutes (MINUTES_CACHE);
# building them once here keeps the first run and the tests fast.
$(STAMPS)/lexicon: $(STAMPS)/venv $(wildcard lexicons/*.tsv lexicons/user/*.txt lexicons/context/*.txt)
	$(BIN)/python -W ignore::RuntimeWarning -m pipeline.normalise.lexicon build
	$(BIN)/python -W ignore::RuntimeWarning -m pipeline.normalise.context build
	@touch $@

lexicon: $(STAMPS)/venv
	$(BIN)/python -W ignore::RuntimeWarning -m pipeline.normalise.lexicon build
	$(BIN)/python -W ignore::RuntimeWarning -m pipeline.normalise.context build

run: setup
	$(BIN)/minutes run --raw $(RAW) --out $(OUT)

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check pipeline tests scripts benchmarks
	$(BIN)/ruff format --check pipeline tests scripts benchmarks
	$(BIN)/mypy

eval: setup
	$(BIN)/python -m benchmarks.run_eval --check

eval-quick: setup
	$(BIN)/python -m benchmarks.run_eval --quick --check

# OCRmyPDF is only the comparison in `make bench`; from version 17 it rasterises
# with pypdfium2, so it needs no Ghostscript.
$(STAMPS)/ocrmypdf: $(STAMPS)/venv
	$(BIN)/python -m pip install --quiet 'ocrmypdf>=17'
	@touch $@

bench: setup $(STAMPS)/ocrmypdf
	$(BIN)/python -m benchmarks.run_bench

bench-quick: setup $(STAMPS)/ocrmypdf
	$(BIN)/python -m benchmarks.run_bench --quick

# A scheduler and two single-threaded workers on this machine, started with
# Dask's own command-line tools, run the sample corpus; all stop at the end.
DEMO_PORT ?= 8786
DEMO_DASH ?= 8787
cluster-demo: setup
	@set -e; log=$$(mktemp -d); \
	$(BIN)/dask scheduler --host 127.0.0.1 --port $(DEMO_PORT) --dashboard-address 127.0.0.1:$(DEMO_DASH) >$$log/scheduler.log 2>&1 & s=$$!; \
	trap 'kill $$s $$w1 $$w2 2>/dev/null; wait 2>/dev/null' EXIT; \
	sleep 3; \
	$(BIN)/dask worker tcp://127.0.0.1:$(DEMO_PORT) --nworkers 1 --nthreads 1 --no-dashboard >$$log/worker1.log 2>&1 & w1=$$!; \
	$(BIN)/dask worker tcp://127.0.0.1:$(DEMO_PORT) --nworkers 1 --nthreads 1 --no-dashboard >$$log/worker2.log 2>&1 & w2=$$!; \
	sleep 5; \
	echo "dashboard: http://127.0.0.1:$(DEMO_DASH)/status (logs in $$log)"; \
	$(BIN)/minutes run --raw $(RAW) --out $(OUT)/cluster-demo --scheduler tcp://127.0.0.1:$(DEMO_PORT) --force

notebook: setup
	PATH="$(abspath $(BIN)):$$PATH" MINUTES_CLEAN="$(abspath $(OUT))" MPLBACKEND=Agg \
		$(BIN)/jupyter-execute --timeout=600 notebooks/analysis.ipynb

corpus: setup
	$(BIN)/python scripts/make_corpus.py --fixtures data/fixtures --raw $(RAW)

clean:
	rm -rf $(VENV) $(OUT)/text $(OUT)/review $(OUT)/.cache $(OUT)/cluster-demo $(OUT)/*.csv $(OUT)/*.parquet $(OUT)/datapackage.json \
		benchmarks/results/cache benchmarks/results/eval.json benchmarks/results/bench.json .pytest_cache .mypy_cache .ruff_cache
