# Two commands set everything up on a fresh machine with Python 3.11, pip and apt:
#   make run    venv + pinned deps, database, first admin, demo data, then the app on :8501
#   make test   venv + test deps (+ Debian chromium and CJK fonts for browser tests, PySpark and a headless Java 17
#               for the Spark engine's tests), then ruff, mypy and pytest
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint init browser java bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test: requirements-test.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $(VENV)/.runtime $@

$(VENV)/.spark: requirements-spark.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-spark.txt
	touch $@

init: $(VENV)/.runtime
	$(BIN)/python -m governance init

run: init
	$(BIN)/python -m streamlit run serve.py --server.port 8501

browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; fi

java:
	@if ! command -v java >/dev/null; then \
		$(SUDO) apt-get update -qq && { $(SUDO) apt-get install -y -qq openjdk-17-jre-headless >/dev/null \
		|| $(SUDO) apt-get install -y -qq openjdk-21-jre-headless >/dev/null; }; fi  # Debian 13 has only 21

lint: $(VENV)/.test
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint browser java $(VENV)/.spark
	$(BIN)/python -m pytest -n 2 --dist loadgroup --ignore=tests/chaos
	$(BIN)/python -m pytest tests/chaos  # alone: these tests signal and kill real processes

bench: $(VENV)/.runtime
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) .pytest_cache
