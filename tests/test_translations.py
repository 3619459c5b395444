"""The shipped catalogs are complete: after ``makemessages`` no string of the library or the demo is untranslated or
fuzzy in French, German or Spanish, and each committed ``.mo`` file is its ``.po`` file compiled.

``makemessages`` runs on a copy of the tree (the tree itself is never changed), the way ``make messages`` runs it. A
failure lists every missing string: translate them in the ``.po`` files named, then ``make compilemessages``.
"""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ["fr", "de", "es"]
#: Each catalog: the folder makemessages runs in, its extra arguments, and where its locale folder is (as in the
#: Makefile's ``messages`` target). The demo's templates and settings go to the project's LOCALE_PATHS (locale/).
DEMO_IGNORE = ["exports", "orders", "tests", "bench", "docs", "var", "build", "*.egg-info"]
CATALOGS = {
    "exports": ("exports", []),
    "orders": ("orders", []),
    "demo": (".", [f"--ignore={pattern}" for pattern in DEMO_IGNORE]),
}
#: What the copy needs: the sources makemessages reads, and the catalogs it updates.
COPIED = ["exports", "orders", "project", "templates", "locale", "manage.py"]


def po_files(root: Path) -> list[Path]:
    return sorted(
        root / folder / "locale" / language / "LC_MESSAGES" / "django.po"
        for folder, _args in CATALOGS.values()
        for language in LANGUAGES
    )


@pytest.fixture(scope="module")
def gettext_tools() -> None:
    if shutil.which("xgettext") is None or shutil.which("msgfmt") is None:
        if os.environ.get("CI"):
            pytest.fail("GNU gettext (xgettext, msgfmt) is missing: apt-get install -y gettext")
        pytest.skip("GNU gettext (xgettext, msgfmt) is not installed here: the catalogs cannot be checked")


@pytest.fixture(scope="module")
def updated(tmp_path_factory: pytest.TempPathFactory, gettext_tools: None) -> Path:
    """A copy of the tree whose catalogs ``makemessages`` has brought up to date with the sources."""
    copy = tmp_path_factory.mktemp("messages")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    django_admin = [sys.executable, "-m", "django"]
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    for folder, arguments in CATALOGS.values():
        command = [*django_admin, "makemessages", *(f"--locale={language}" for language in LANGUAGES), *arguments]
        subprocess.run(command, cwd=copy / folder, env=environment, check=True, capture_output=True)
    return copy


def missing(path: Path) -> list[str]:
    """Every msgid of ``path`` that is untranslated (a plural form included) or fuzzy."""
    problems = []
    for entry in polib.pofile(str(path)):
        if entry.obsolete:
            continue
        forms = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        elif not all(forms):
            problems.append(f"untranslated: {entry.msgid!r}")
    return problems


def test_every_string_is_translated_after_makemessages(updated: Path) -> None:
    report = {str(path.relative_to(updated)): problems for path in po_files(updated) if (problems := missing(path))}
    assert report == {}, "translate these, then `make compilemessages`"


def test_no_catalogs_header_is_fuzzy() -> None:
    # msgfmt ignores a fuzzy header, and with it the language's plural rule.
    assert [path for path in po_files(ROOT) if polib.pofile(str(path)).metadata_is_fuzzy] == []


def test_each_mo_file_is_its_po_file_compiled(tmp_path: Path, gettext_tools: None) -> None:
    stale = []
    for index, po in enumerate(po_files(ROOT)):
        compiled = tmp_path / f"{index}.mo"
        subprocess.run(["msgfmt", "--check-format", "-o", str(compiled), str(po)], check=True, capture_output=True)
        with compiled.open("rb") as fresh, po.with_suffix(".mo").open("rb") as committed:
            if gettext.GNUTranslations(fresh)._catalog != gettext.GNUTranslations(committed)._catalog:  # type: ignore[attr-defined]
                stale.append(str(po.relative_to(ROOT)))
    assert stale == [], "run `make compilemessages`"
