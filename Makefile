# Liftoff: `make run` starts the app with the demo portfolio; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8501

.PHONY: run test install migrate demo lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Liftoff needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/liftoff migrate

demo: migrate
	$(BIN)/liftoff demo --if-empty

# The demo opens for viewers (no sign-in needed to browse); set LIFTOFF_ANONYMOUS_ROLE=none to
# require signing in. Uploading and editing need an account: see the README's "Who may do what".
run: demo
	@echo "Browsing needs no sign-in. To upload or edit, add an account: $(BIN)/liftoff users add you@example.org --role editor"
	LIFTOFF_ANONYMOUS_ROLE=$${LIFTOFF_ANONYMOUS_ROLE:-viewer} $(BIN)/liftoff run --port $(PORT)

# Test files are spread over the cores, each file kept in one worker (its servers and browsers
# are started once); TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= auto
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: install
	$(BIN)/ruff check lib tests screens app.py

clean:
	rm -rf $(VENV) artifacts .pytest_cache
