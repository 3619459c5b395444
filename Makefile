# The two set-up commands of the README: `make demo` and `make test`. Each creates the virtual environment on first
# use (Python 3.11+), installs the project with its test tools, and does the rest.
#
# Another interpreter gets a virtual environment of its own, with the newest Django it runs:
#   make demo PYTHON=python3.13            the demo on Django 6.1 (.venv-python3.13)
#   make test PYTHON=python3.12            lint and suite on Python 3.12
# `make matrix` runs every supported Django on every Python it supports (noxfile.py); arguments go through NOXARGS,
# e.g. `make matrix NOXARGS="-t sqlite"`.
PYTHON ?= python3
VENV ?= $(if $(filter python3,$(PYTHON)),.venv,.venv-$(notdir $(PYTHON)))
BIN := $(VENV)/bin
# The demo's address; runserver's own options (e.g. --noreload) go in DEMOARGS.
PORT ?= 8000
DEMOARGS ?=
NOXARGS ?=

COVERAGE := $(BIN)/python -m coverage

.PHONY: demo test lint test-postgres coverage matrix clean messages compilemessages

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,matrix]'
	touch $@

## The demo: SQLite, seeded orders, a demo user with the export permission, then the development server and the
## worker of background exports.
demo: $(BIN)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo_setup
	@# The worker of background exports runs beside the server; Ctrl-C stops both (the server stays in the
	@# foreground: runserver started in the background of a script ignores SIGINT).
	$(BIN)/python manage.py db_worker --no-reload & trap 'kill $$! 2>/dev/null' EXIT; \
	$(BIN)/python manage.py runserver $(DEMOARGS) 127.0.0.1:$(PORT)

## Lint, type-check and run the whole suite under branch coverage (SQLite; PostgreSQL too when DATABASE_URL is set).
## Coverage follows the servers and commands the suite starts; the data is kept in .coverage for `make coverage`.
test: $(BIN)/.installed lint
	$(COVERAGE) erase
	$(COVERAGE) run -m pytest
	$(COVERAGE) combine --quiet
	@echo "Branch coverage of exports/ in this run: $$($(COVERAGE) report --format=total --fail-under=0)%"

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	# Developers run Django on macOS and Windows too: the library type-checks for them.
	$(BIN)/mypy --platform darwin exports
	$(BIN)/mypy --platform win32 exports

## The suite against the local PostgreSQL server (what .ci/run does after `make test`), its coverage added to the data.
test-postgres: $(BIN)/.installed
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/exports} $(COVERAGE) run -m pytest
	$(COVERAGE) combine --append --quiet

## The floor: 95% of exports/'s branches, over the runs gathered since `make test` (SQLite and PostgreSQL together:
## some code runs on one database only, such as COPY).
coverage: $(BIN)/.installed
	$(COVERAGE) report

## Every supported Django/Python pair on SQLite, the oldest and newest on PostgreSQL, lint on both (noxfile.py).
matrix: $(BIN)/.installed
	$(BIN)/nox $(NOXARGS)

## Translations (docs/translations.md). `make messages` adds new strings to the French, German and Spanish catalogs of
## the library (exports/locale), the demo app (orders/locale) and the demo's templates (locale/); translate them, then
## `make compilemessages`. tests/test_translations.py runs the same commands on a copy and lists what is missing.
LANGUAGES_FLAGS := -l fr -l de -l es
DEMO_MESSAGES_IGNORE := -i exports -i orders -i tests -i bench -i docs -i var -i build -i '*.egg-info'
messages: $(BIN)/.installed
	cd exports && ../$(BIN)/django-admin makemessages $(LANGUAGES_FLAGS)
	cd orders && ../$(BIN)/django-admin makemessages $(LANGUAGES_FLAGS)
	$(BIN)/django-admin makemessages $(LANGUAGES_FLAGS) $(DEMO_MESSAGES_IGNORE)

compilemessages: $(BIN)/.installed
	cd exports && ../$(BIN)/django-admin compilemessages
	cd orders && ../$(BIN)/django-admin compilemessages
	$(BIN)/django-admin compilemessages -i '.*' $(DEMO_MESSAGES_IGNORE)

clean:
	rm -rf .venv .venv-* .nox var .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.*
