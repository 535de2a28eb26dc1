# Everything a fresh machine needs, from nothing but Python 3.10+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install setup serve test bench moderate mnist clean

TEXT ?= You are a worthless idiot, shut up.
HOST ?= 127.0.0.1
PORT ?= 8000

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The package and its runtime dependencies.
install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

# Plus the test extras and PyTorch, the test oracle and benchmark peer (never used by src/smartmod).
setup: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet torch==2.13.0

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/mlp_speed.py
	$(BIN)/python bench/moderate_speed.py

# The web page and the HTTP API on the bundled default model: make serve [PORT=8000]; Ctrl+C stops it.
serve: install
	@echo "smartmod: the web page will be at http://$(HOST):$(PORT)/ (API description at /openapi.json)"
	$(BIN)/smartmod serve --host $(HOST) --port $(PORT)

# Score a comment with the bundled default model: make moderate TEXT="..."
moderate: install
	$(BIN)/smartmod moderate "$(TEXT)"

mnist: install
	$(BIN)/smartmod train mnist

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
