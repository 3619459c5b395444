# The two set-up commands of the README: `make demo` and `make test`. Each creates the virtual environment on first
# use (Python 3.11+), installs the project with its test tools, and does the rest.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint test-postgres clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## The demo: SQLite, seeded orders, a demo user with the export permission, then the development server.
demo: $(BIN)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo_setup
	$(BIN)/python manage.py runserver 127.0.0.1:8000

## Lint, type-check and run the whole suite (SQLite; PostgreSQL too when DATABASE_URL is set).
test: $(BIN)/.installed lint
	$(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

## The suite against the local PostgreSQL server (what .ci/run does after `make test`).
test-postgres: $(BIN)/.installed
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/exports} $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
