# Everything a fresh machine needs, from nothing but Python 3.10+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup test bench mnist clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip >/dev/null

# torch is the test oracle and benchmark peer only; it never enters src/smartmod.
setup: $(BIN)/python
	$(BIN)/pip install -e '.[test]'
	$(BIN)/pip install torch==2.13.0

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/mlp_speed.py

mnist: setup
	$(BIN)/python bench/train_mnist.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
