# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast bench lint install

$(VENV)/.installed: pyproject.toml tests/e2e/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,wechat]'
	cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python -m pip install -q -e '.[fast]' || echo "jieba_fast did not build: using plain jieba (slower, same results)"
	$(BIN)/xiaoqi setup
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	bash tools/system_deps.sh
	$(BIN)/xiaoqi demo

test: $(VENV)/.installed
	bash tools/system_deps.sh --test
	$(BIN)/python -m pytest

# the tests a developer runs while working (under two minutes): no slow tests, no outside stacks
test-fast: $(VENV)/.installed
	bash tools/system_deps.sh --test
	$(BIN)/python -m pytest -m "not slow and not e2e"

bench: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python bench/nlp_bench.py

lint: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/ruff check . && $(BIN)/mypy core access bot groups tickets nlp xiaoqi consult reports notices moderation faq web
