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

# The suite runs on every core (pytest-xdist); a file's tests stay together on one worker,
# so module fixtures are built once and the README tour's steps run in order.
TEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

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
	$(BIN)/python scripts/typecheck.py

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis

docs: $(STAMP)
	$(BIN)/python -m attain.docs

# Renders each kind of page — the simulation report, the territory map, a pay statement,
# the target board — in headless Chromium (installed with apt-get when missing), fails on
# console errors or anything a page would fetch, and refreshes the screenshots in docs/.
REPORT_OUT := out/report
report: $(STAMP)
	command -v chromium >/dev/null 2>&1 || { apt-get update && apt-get install -y chromium; }
	$(BIN)/attain simulate scenarios/compare_plans.yaml --out $(REPORT_OUT)/compare
	$(BIN)/attain territory rules/territory_balance.yaml --data scenarios/sample --out $(REPORT_OUT)/territory
	$(BIN)/attain allocate rules/allocation_fy27.yaml --data scenarios/sample --out $(REPORT_OUT)/fy27
	$(BIN)/attain payout rules/plan_field_rep.yaml --targets $(REPORT_OUT)/fy27/targets.csv \
		--actuals scenarios/sample/actuals.csv --out $(REPORT_OUT)/payouts --html
	$(BIN)/python -c "import pandas as pd; d = pd.read_csv('scenarios/sample/actuals.csv', dtype=str); \
		d[d['date'] <= '2027-06-30'].to_csv('$(REPORT_OUT)/actuals_h1.csv', index=False)"
	$(BIN)/attain track --targets $(REPORT_OUT)/fy27/targets.csv --actuals $(REPORT_OUT)/actuals_h1.csv \
		--as-of 2027-06-30 --data scenarios/sample --plan rules/plan_field_rep.yaml --out $(REPORT_OUT)/track
	$(BIN)/attain design rules/design_field_rep.yaml --out $(REPORT_OUT)/design
	$(BIN)/python scripts/render_report.py \
		$(REPORT_OUT)/compare/report.html docs/report.png 5000 \
		$(REPORT_OUT)/territory/map.html docs/territory_map.png 2600 \
		$(REPORT_OUT)/payouts/statements/R00001.html docs/statement.png 1800 \
		$(REPORT_OUT)/track/board.html docs/board.png 2600 \
		$(REPORT_OUT)/design/design.html docs/design.png 2400
