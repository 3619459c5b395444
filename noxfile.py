"""The test matrix: every supported Django on every Python it runs on (``nox -l`` lists the sessions).

- ``tests``: the whole suite on SQLite, one session per Django/Python pair;
- ``postgres``: the whole suite on PostgreSQL, with psycopg2 and with psycopg 3, for the oldest and the newest pair;
- ``lint``: ruff, and mypy with the django-stubs of that Django, for the oldest and the newest pair.

Interpreters come from the machine (pyenv's, which ``.python-version`` puts on the path); nothing is downloaded. A
missing one fails the run when ``CI`` is set, and is a skip named in the summary elsewhere. Each PostgreSQL session
has a database of its own on the server of ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/exports``):
that URL's database name with the session's Django, Python and driver appended, so no two sessions, nor anything else
on the server, share a database. Environments are kept between runs in ``.nox/`` and made with uv when it is
installed (pip otherwise). Arguments after ``--`` go to pytest or mypy: ``nox -s "tests(django='6.1',
python='3.13')" -- -x tests/test_views.py``; ``nox -t sqlite``, ``nox -t postgres``, ``nox -p 3.13`` pick a part.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit, urlunsplit

import nox

#: The one place the matrix is pinned: each supported Django, the stubs that type it, the Pythons it is tested on.
MATRIX = {
    "5.2": {"django": "Django~=5.2.0", "stubs": "django-stubs~=5.2.0", "pythons": ("3.11", "3.12", "3.13")},
    "6.0": {"django": "Django~=6.0.0", "stubs": "django-stubs~=6.0.0", "pythons": ("3.12", "3.13")},
    "6.1": {"django": "Django~=6.1.0", "stubs": "django-stubs~=6.1.0", "pythons": ("3.12", "3.13")},
}
#: Django uses psycopg 3 whenever it imports, so each driver gets an environment without the other.
DRIVERS = {"psycopg2": "psycopg2-binary>=2.9.9", "psycopg3": "psycopg[binary]>=3.1.12"}

PAIRS = [(django, python) for django, pins in MATRIX.items() for python in pins["pythons"]]
EDGES = [PAIRS[0], PAIRS[-1]]  # the oldest Django on the oldest Python, the newest on the newest
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/exports"
IN_CI = os.environ.get("CI", "").lower() not in {"", "0", "false", "no"}

nox.options.default_venv_backend = "uv|venv"
nox.options.reuse_venv = "yes"
nox.options.download_python = "never"
nox.options.error_on_missing_interpreters = IN_CI


def _install(session: nox.Session, django: str, *extra: str, extras: str = "test") -> None:
    """The project with its test tools, and the pair's Django and stubs (the extras pin neither)."""
    pins = MATRIX[django]
    session.install("-e", f".[{extras}]", str(pins["django"]), str(pins["stubs"]), *extra)


def _pytest(session: nox.Session, **env: str) -> None:
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", *session.posargs, env=env)


@nox.session(tags=["sqlite"])
@nox.parametrize(("django", "python"), PAIRS)
def tests(session: nox.Session, django: str) -> None:
    """The whole suite on SQLite."""
    _install(session, django)
    # No DATABASE_URL: the suite's SQLite file. PostgreSQL's own tests skip here, saying so; the postgres sessions
    # run them.
    _pytest(session, DATABASE_URL="", EXPORTS_TESTS_REQUIRE_POSTGRES="0")


@nox.session(tags=["postgres"])
@nox.parametrize(("django", "python"), EDGES)
@nox.parametrize("driver", list(DRIVERS))
def postgres(session: nox.Session, django: str, driver: str) -> None:
    """The whole suite on PostgreSQL, in a database of the session's own."""
    url = _database_url(django, str(session.python), driver)
    _require_server(session, url)
    _install(session, django, DRIVERS[driver])
    _pytest(session, DATABASE_URL=url, EXPORTS_TESTS_REQUIRE_POSTGRES="1")


@nox.session(tags=["lint"])
@nox.parametrize(("django", "python"), EDGES)
def lint(session: nox.Session, django: str) -> None:
    """ruff, and mypy for the pair's Python with the pair's django-stubs."""
    _install(session, django, extras="test,matrix")  # nox itself, for mypy to check this file
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", "--python-version", str(session.python), *(session.posargs or ["."]))


def _database_url(django: str, python: str, driver: str) -> str:
    """``DATABASE_URL`` with the session's own database name (the tests then use ``test_`` + that name)."""
    parts = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    base = parts.path.lstrip("/") or "exports"
    name = f"{base}_dj{django}_py{python}_{driver}".replace(".", "")
    return urlunsplit(parts._replace(path=f"/{name}"))


def _require_server(session: nox.Session, url: str) -> None:
    """A PostgreSQL server that does not answer fails the session in CI, and skips it elsewhere."""
    parts = urlsplit(url)
    address = (parts.hostname or "127.0.0.1", parts.port or 5432)
    try:
        socket.create_connection(address, timeout=5).close()
    except OSError as error:
        reason = f"PostgreSQL at {address[0]}:{address[1]} does not answer ({error})"
        if IN_CI:
            session.error(reason)
        session.skip(reason)
