# Two commands for a newcomer: `make run` and `make test`. Each does its own set-up.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint format bench doctor lessons-check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@echo "Installing Code Tutor; llama-cpp-python compiles llama.cpp the first time (about 4 minutes on 2 cores)..."
	$(PY) -m pip install -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/codetutor

test: $(STAMP)
	$(VENV)/bin/ruff check app tests
	$(VENV)/bin/ruff format --check app tests
	$(VENV)/bin/codetutor lessons check
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest --cov=app --cov-report=term --cov-fail-under=80 -q

lint:
	$(VENV)/bin/ruff check app tests && $(VENV)/bin/ruff format --check app tests

format:
	$(VENV)/bin/ruff format app tests && $(VENV)/bin/ruff check --fix app tests

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/codetutor bench --json

doctor: $(STAMP)
	$(VENV)/bin/codetutor doctor

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .coverage
