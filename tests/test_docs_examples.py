"""Every download URL and ``export`` command shown in the README and docs/ runs against the demo, as written, and
every link between the pages leads to a page and a heading that exist.

The examples are read from the Markdown itself: each ``curl`` line and ``manage.py export`` line of a ``sh`` block,
and each inline ``/exports/...`` or ``?parameter=value`` span of the prose. A URL is fetched through the test client
as the demo user (``demo_setup``: the demo's own seeded orders and user), a command runs through ``call_command``
with its files in a temporary folder. A URL expects 200 and at least one row, unless its line ends with a comment
``# HTTP 400`` (or another status); ``curl -I`` sends ``HEAD`` and expects the download's headers and no body. The
sample of the CSV format page must be what the demo export writes.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: The demo export's path, for the query strings the prose shows on their own (``?columns=customer_email,total``).
DEMO_EXPORT = "/exports/orders.csv"

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_INLINE = re.compile(r"`([^`\n]+)`")
#: A URL or query string with real values (no ``<name>`` or ``...`` placeholders, no empty value).
_URL_SPAN = re.compile(r"^(/exports/[\w.-]+\.(?:csv|tsv|jsonl))?(\?[\w.-]+=[^\s<>=&]+(&[\w.-]+=[^\s<>=&]+)*)?$")
_STATUS = re.compile(r"#\s*HTTP (\d{3})\s*$")
_COMMAND = re.compile(r"^(?:python )?(?:\./)?manage\.py export\b")


def read_any(data: bytes, where: str) -> list[list[str]]:
    """An export's header and rows as cells, in the format ``where`` (its URL, or its command line) names."""
    if ".jsonl" in where:
        objects = [json.loads(line) for line in data.decode().splitlines()]
        keys = {"id": "ID", "reference": "Reference"}  # JSON Lines keys its objects by the columns' keys
        return [[keys.get(key, key) for key in objects[0]], *[[str(v) for v in o.values()] for o in objects]]
    if ".tsv" in where or "tsv" in where.split():
        return [line.split("\t") for line in data.decode().splitlines()]
    delimiter = ";" if "excel-semicolon" in where else ","
    return list(csv.reader(io.StringIO(data.decode().removeprefix("\ufeff"), newline=""), delimiter=delimiter))


@dataclass(frozen=True)
class Example:
    page: str
    kind: str  # "url" or "command"
    text: str
    status: int = 200
    method: str = "get"

    def __str__(self) -> str:
        return f"{self.page}: {'HEAD ' if self.method == 'head' else ''}{self.text}"


def _examples() -> list[Example]:
    found: list[Example] = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        name = page.relative_to(ROOT).as_posix()
        for language, block in _FENCE.findall(text):
            if language not in {"sh", "console", "bash", "shell"}:
                continue
            for line in block.splitlines():
                found.extend(_from_line(name, line.strip()))
        prose = _FENCE.sub("", text)
        for span in _INLINE.findall(prose):
            if span.startswith(("/exports/", "?")) and _URL_SPAN.match(span) and span != "/exports/":
                url = span if span.startswith("/") else DEMO_EXPORT + span
                found.append(Example(name, "url", url))
    return found


def _from_line(page: str, line: str) -> list[Example]:
    if not line or line.startswith("#"):
        return []
    if line.startswith("curl "):
        status = _STATUS.search(line)
        words = shlex.split(line, comments=True)
        url = next(word for word in words if "://" in word)
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        method = "head" if {"-I", "--head"} & set(words) else "get"
        return [Example(page, "url", path, int(status.group(1)) if status else 200, method)]
    if _COMMAND.match(line):
        return [Example(page, "command", line)]
    assert "/exports/" not in line and "manage.py export" not in line, (
        f"{page}: an example this test cannot run: {line}"
    )
    return []


EXAMPLES = _examples()


def test_the_pages_have_examples():
    kinds = {(example.page, example.kind) for example in EXAMPLES}
    assert ("README.md", "url") in kinds
    assert ("README.md", "command") in kinds
    assert ("docs/url.md", "url") in kinds
    assert ("docs/command.md", "command") in kinds


@pytest.fixture
def demo(db):
    """The demo as ``make demo`` leaves it: 2,000 seeded orders and the user demo/demo."""
    call_command("demo_setup", stdout=io.StringIO())
    return get_user_model()._default_manager.get_by_natural_key("demo")


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.kind == "url"], ids=str)
def test_a_url_example(example, demo, client):
    client.force_login(demo)

    response = getattr(client, example.method)(example.text)

    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == example.status, body.decode()[:500]
    if example.method == "head":
        assert body == b""
        assert response["Content-Disposition"].startswith('attachment; filename="orders-')
    elif example.status == 200:
        rows = read_any(body, example.text)
        assert rows[0][:2] == ["ID", "Reference"]
        assert len(rows) > 1, "the example selects no rows of the demo"


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.kind == "command"], ids=str)
def test_a_command_example(example, demo, tmp_path):
    words = shlex.split(example.text, comments=True)
    words = words[words.index("export") + 1 :]
    # `| head` and `> file` take the command's stdout, which the test reads instead.
    for shell in ("|", ">"):
        if shell in words:
            words = words[: words.index(shell)]
    for option in ("-o", "--output"):
        if option in words:
            index = words.index(option) + 1
            words[index] = str(tmp_path / words[index])
    out, err = io.StringIO(), io.StringIO()

    call_command("export", *words, stdout=out, stderr=err)

    if "--list" in words:
        assert "orders\tOrders" in out.getvalue().splitlines()
        return
    written = list(tmp_path.iterdir())
    if "-o" not in words and "--output" not in words:
        assert written == []
        data = out.getvalue().encode()
    else:
        [path] = written  # the file, and no temporary file left beside it
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    rows = read_any(data, example.text)
    assert rows[0][:2] == ["ID", "Reference"]
    assert len(rows) > 1, "the example selects no rows of the demo"


def test_the_csv_format_sample_is_what_the_demo_export_writes(demo):
    page = (ROOT / "docs" / "csv-format.md").read_text(encoding="utf-8")
    [sample] = [block for language, block in _FENCE.findall(page) if language == "text" and block.startswith("ID,")]
    header, rows = sample.split("\n", 1)
    out = io.StringIO()

    call_command("export", "orders", stdout=out)

    written = out.getvalue()
    assert written.startswith(header + "\n")
    assert "\n" + rows in written
    # The sample parses as CSV into whole rows of the header's width.
    assert {len(row) for row in csv.reader(io.StringIO(sample, newline=""))} == {len(header.split(","))}


_LINK = re.compile(r"\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_links_between_pages_lead_somewhere(page):
    text = page.read_text(encoding="utf-8")
    for target in _LINK.findall(_FENCE.sub("", text)):
        if "://" in target:
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name} links to {target}: no such file"
        if anchor:
            headings = _HEADING.findall(_FENCE.sub("", linked.read_text(encoding="utf-8")))
            assert anchor in {_anchor(heading) for heading in headings}, (
                f"{page.name} links to {target}: no such heading"
            )
