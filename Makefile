# Every target creates .venv and installs the project with its dev extras on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint docs report clean fuzz

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/attain demo --out out/demo

test: $(STAMP)
	$(BIN)/python -m pytest

# The contract suite at length: many more hypothesis examples of mutated rule files
# and tables, and random SIGINT/SIGKILL kills of every command (about 20-40 minutes).
FUZZ_EXAMPLES ?= 300
FUZZ_KILLS ?= 60
fuzz: $(STAMP)
	ATTAIN_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) ATTAIN_FUZZ_KILLS=$(FUZZ_KILLS) \
		$(BIN)/python -m pytest tests/test_contract_cli.py tests/test_contract_interrupt.py -x

bench: $(STAMP)
	$(BIN)/python bench/run.py

lint: $(STAMP)
	$(BIN)/ruff check engine cli tests bench scripts
	$(BIN)/ruff format --check engine cli tests bench scripts

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis

docs: $(STAMP)
	$(BIN)/python -m attain.docs

# Renders the simulation report in headless Chromium (needs `apt-get install chromium`),
# fails on console errors, and refreshes the screenshot in docs/.
report: $(STAMP)
	$(BIN)/attain simulate scenarios/compare_plans.yaml --out out/compare
	$(BIN)/python scripts/render_report.py out/compare/report.html docs/report.png
