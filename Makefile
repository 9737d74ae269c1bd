# Every target installs what it needs, so each works on a fresh Debian machine
# and is safe to run again.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMPS := $(VENV)/.stamps
RAW    ?= data/raw
OUT    ?= data/clean

.PHONY: setup run test lint corpus clean help

help:
	@echo "make run    - set up if needed, process $(RAW) into $(OUT)"
	@echo "make test   - set up if needed, run the tests"
	@echo "make lint   - ruff and mypy"
	@echo "make corpus - regenerate the sample corpus in $(RAW) from data/fixtures"
	@echo "make setup  - install system packages and the virtualenv"
	@echo "make clean  - remove outputs and the virtualenv"

setup: $(STAMPS)/system $(STAMPS)/venv

$(STAMPS)/system: scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/venv: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@mkdir -p $(STAMPS) && touch $@

run: setup
	$(BIN)/minutes run --raw $(RAW) --out $(OUT)

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check pipeline tests scripts
	$(BIN)/ruff format --check pipeline tests scripts
	$(BIN)/mypy

corpus: setup
	$(BIN)/python scripts/make_corpus.py --fixtures data/fixtures --raw $(RAW)

clean:
	rm -rf $(VENV) $(OUT)/text $(OUT)/*.csv .pytest_cache .mypy_cache .ruff_cache
