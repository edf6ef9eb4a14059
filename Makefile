# Everything the project needs is installed here, into .venv; nothing relies on what
# the machine happens to have.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ARGS   ?= .

.PHONY: run test test-browser lint bench bench-peers bench-watch bench-crossover reader-diff mutate clean bytecode

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

# The package's bytecode, compiled ahead as an installer compiles it: the sources are
# installed in place, and where PYTHONDONTWRITEBYTECODE is set Python would otherwise
# compile every module again at each start (about 70 ms of every run). Only changed
# files are compiled again.
bytecode: $(VENV)/.installed
	@$(BIN)/python -m compileall -q src

run: $(VENV)/.installed bytecode
	$(BIN)/gitoverit $(ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench mutate
	$(BIN)/ruff format --check src tests bench mutate
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: lint bytecode
	$(BIN)/pytest -q -m "not browser"

# The HTML report in a real browser. Installs Debian's chromium (apt-get, as root) and
# Playwright, then runs the tests marked "browser"; the screenshot is kept in
# build/test-artifacts/.
test-browser: $(VENV)/.installed-dev
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/python -m pip install -q -e '.[dev,browser]'
	$(BIN)/pytest -q -m browser

bench: $(VENV)/.installed-dev bytecode
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The peers beside the floor and gitoverit on the bench corpus (bench/peers.py). Each
# Python peer gets a venv of its own under build/peers/ (never the project's .venv);
# myrepos comes from Debian. A peer that fails to install is reported as such by the run.
PEERS := build/peers
PEER_PACKAGES := gita vcspull gitoverit

bench-peers: $(VENV)/.installed-dev bytecode
	@mkdir -p $(PEERS)
	@for p in $(PEER_PACKAGES); do \
	  test -x $(PEERS)/$$p/bin/python || $(PYTHON) -m venv $(PEERS)/$$p; \
	  $(PEERS)/$$p/bin/python -m pip install -q $$p > $(PEERS)/$$p.log 2>&1 \
	    || echo "$$p: pip install failed (see $(PEERS)/$$p.log)"; \
	done
	@command -v mr >/dev/null || (apt-get update -qq && apt-get install -y -qq myrepos) \
	  > $(PEERS)/myrepos.log 2>&1 || echo "myrepos: apt-get install failed (see $(PEERS)/myrepos.log)"
	$(BIN)/python bench/peers.py --peers $(PEERS) $(BENCH_ARGS)

bench-watch: $(VENV)/.installed-dev bytecode
	$(BIN)/python bench/watch.py $(BENCH_ARGS)

# Where git's own status gets faster than the in-process reader, by tracked files.
bench-crossover: $(VENV)/.installed-dev bytecode
	$(BIN)/python bench/reader_crossover.py $(BENCH_ARGS)

# The two status readers compared on real repositories given as paths (clones or bare
# mirrors): make reader-diff REPOS="~/src/project /srv/mirrors/other.git"
reader-diff: $(VENV)/.installed-dev bytecode
	$(BIN)/python bench/reader_diff.py $(REPOS)

# Mutation testing of the code that protects data (mutate/run.py); not part of `make test`.
mutate: $(VENV)/.installed-dev
	$(BIN)/python mutate/run.py $(MUTATE_ARGS)

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache mutants
	find src -name __pycache__ -prune -exec rm -rf {} +
