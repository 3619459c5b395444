"""Languages within one process: the URL (Accept-Language), the command (--language) and the admin each speak the
language of their own request, headers included, while the file's values stay the same in every language."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.utils import translation
from django.utils.functional import Promise

from exports.management.progress import Progress
from exports.registry import registry
from exports.runs import Surface, prepare
from orders.models import Customer
from tests.conftest import body, read_csv

pytestmark = pytest.mark.django_db

URL = "/exports/orders.csv"
CHANGELIST = "/admin/orders/order/"
EXPORT_ALL = "/admin/orders/order/export/"
HEADERS = {
    "en": ["ID", "Reference", "Placed at", "Status", "Customer", "Country", "Email", "Total (cents)"],
    "fr": ["ID", "Référence", "Passée le", "Statut", "Client", "Pays", "Courriel", "Total (centimes)"],
    "de": ["ID", "Referenz", "Aufgegeben am", "Status", "Kunde", "Land", "E-Mail-Adresse", "Summe (Cent)"],
    "es": ["ID", "Referencia", "Realizado el", "Estado", "Cliente", "País", "Correo electrónico", "Total (céntimos)"],
}


@pytest.fixture(autouse=True)
def default_language_after():
    """LocaleMiddleware leaves the request's language active in this thread: the next test starts in the default."""
    yield
    translation.deactivate()


@pytest.fixture
def order(make_orders):
    customer = Customer.objects.create(name="Zoë", country="FR")
    return make_orders(
        1, customer=customer, status="paid", total_cents=123456789, placed_at="2025-03-01T10:00Z", reference="R-1"
    )[0]


def download(client, language: str, query: str = "") -> list[list[str]]:
    response = client.get(URL + query, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.content
    assert response["Content-Language"] == language
    return read_csv(body(response))


def test_the_same_export_follows_each_requests_language(client, exporter, order):
    client.force_login(exporter)

    # fr, de, en, then fr again: a header made in one language is never served in another.
    for language in ["fr", "de", "en", "fr"]:
        header, row = download(client, language)
        assert header == HEADERS[language]
        assert row[3] == {"fr": "Payée", "de": "Bezahlt", "en": "Paid"}[language]  # a choice's label is text too

    # The columns are resolved once and cached on the export: their labels stay lazy until a run writes them.
    labels = [column.label for column in registry.get("orders").resolved_columns]
    assert all(isinstance(label, Promise) for label in labels)


@pytest.mark.parametrize("language", ["en", "fr", "de", "es"])
def test_values_are_the_same_in_every_language(client, exporter, order, settings, language):
    """ISO dates, '.' decimals and no thousands separator, whatever the language and its formats."""
    settings.USE_THOUSAND_SEPARATOR = True
    client.force_login(exporter)

    header, row = download(client, language, "?columns=total")

    assert header[-1] == {"en": "Total", "fr": "Total", "de": "Summe", "es": "Total"}[language]
    values = dict(
        zip(HEADERS["en"][:3] + HEADERS["en"][4:6] + ["Total (cents)", "Total"], row[:3] + row[4:], strict=True)
    )
    assert values == {
        "ID": str(order.pk),
        "Reference": "R-1",
        "Placed at": "2025-03-01T10:00:00+00:00",
        "Customer": "Zoë",
        "Country": "FR",
        "Total (cents)": "123456789",
        "Total": "1234567.89",
    }


def test_errors_of_the_url_are_in_the_requests_language(client, exporter, order):
    client.force_login(exporter)

    bad = {language: client.get(URL + "?colour=red", HTTP_ACCEPT_LANGUAGE=language) for language in ["de", "en"]}
    assert bad["de"].status_code == bad["en"].status_code == 400
    assert bad["de"].content.decode().startswith("Unbekannter Filter 'colour'. Erlaubte Filter: status, ")
    assert bad["en"].content.decode().startswith("Unknown filter 'colour'. Allowed filters: status, ")

    # Django's own messages (a form field's) come in the same language.
    choice = client.get(URL + "?status=lost", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert choice.startswith("Filtre 'status' : Sélectionnez un choix valide. lost n’en fait pas partie.")
    assert "Valeurs valides : pending (En attente), paid (Payée)," in choice

    first = client.get(URL, HTTP_ACCEPT_LANGUAGE="es")
    busy = client.get(URL, HTTP_ACCEPT_LANGUAGE="es")
    assert busy.status_code == 429
    assert busy.content.decode() == (
        "Ya está ejecutando 1 exportación, el máximo permitido a la vez. Inténtelo de nuevo cuando haya terminado.\n"
    )
    body(first)


def test_format_errors_of_the_url_are_in_the_requests_language(client, exporter, order):
    client.force_login(exporter)

    dialect = client.get(URL + "?dialect=dos", HTTP_ACCEPT_LANGUAGE="fr")
    assert dialect.status_code == 400
    assert dialect.content.decode() == (
        "Le format csv n’a pas de dialecte 'dos' (ses dialectes : unix, excel, excel-semicolon).\n"
    )
    twice = client.get("/exports/orders.jsonl?dialect=unix", HTTP_ACCEPT_LANGUAGE="de")
    assert twice.content.decode() == "Das Format jsonl hat keinen Dialekt 'unix' (seine Dialekte: keine).\n"
    assert client.get("/exports/orders.ods", HTTP_ACCEPT_LANGUAGE="es").status_code == 404


def export(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export", *args, stdout=out, stderr=err, verbosity=2)
    return out.getvalue(), err.getvalue()


def test_the_command_speaks_the_language_it_is_given(order):
    # The default is settings.LANGUAGE_CODE (en-us), whatever language was active before.
    with translation.override("de"):
        english, note = export("orders")
    assert read_csv(english)[0] == HEADERS["en"]
    assert note.startswith("Wrote 1 row (")

    for language in ["fr", "es", "de"]:
        data, note = export("orders", "--language", language)
        assert read_csv(data)[0] == HEADERS[language]
        assert read_csv(data)[1][1:3] == ["R-1", "2025-03-01T10:00:00+00:00"]
    assert note.startswith("1 Zeile geschrieben (")

    with pytest.raises(CommandError, match=r"^Filtre 'status' : Sélectionnez un choix valide\."):
        export("orders", "--language", "fr", "--filter", "status=lost")
    with pytest.raises(CommandError, match=r"^out\.tsv bezeichnet eine tsv-Datei, aber --format ist jsonl\.$"):
        export("orders", "--language", "de", "-o", "out.tsv", "--format", "jsonl")
    with pytest.raises(
        CommandError, match=r"^Ningún formato se llama 'ods'; los formatos son csv, tsv, jsonl, xlsx\.$"
    ):
        export("orders", "--language", "es", "--format", "ods")
    listing, _ = export("--list", "--language", "es")
    assert "  filtros: status (pending (Pendiente), paid (Pagado)," in listing
    assert "  columnas opcionales: customer_email, total (desactivada por defecto)" in listing


@pytest.mark.parametrize(("total", "line"), [(1, "1 / 1 lignes (100%), "), (0, "0 lignes, ")])
def test_the_progress_line_is_translated(make_orders, total, line):
    if total:
        make_orders(total)
    with translation.override("fr"):
        run = prepare(registry.get("orders"), surface=Surface.COMMAND).start()
        progress = Progress(stream := io.StringIO(), run)
        b"".join(run.stream(on_progress=progress.update))
        progress.finish()
    last = stream.getvalue().rsplit("\r", 1)[1]
    assert last.startswith(line)
    assert last.endswith(" lignes/s \n")


def test_the_command_refuses_a_language_the_project_does_not_offer(order):
    with pytest.raises(CommandError, match=r"--language: 'xx' is not one of settings.LANGUAGES \(en, fr, de, es\)"):
        export("orders", "--language", "xx")


def test_the_admin_speaks_each_requests_language(client, django_user_model, order):
    staff = django_user_model.objects.create_user("staff", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_order", "export_order"]))
    client.force_login(staff)

    changelist = client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Exporter tout ce qui correspond (commandes)" in changelist
    assert "Exporter les commandes sélectionné(e)s" in changelist

    # The export page: its texts, the columns' labels, the formats and the CSV dialects.
    picker = client.get(EXPORT_ALL, HTTP_ACCEPT_LANGUAGE="de")
    required = [str(label) for label in picker.context["required_columns"]]
    optional = [str(column["label"]) for column in picker.context["columns"]]
    assert sorted(required + optional) == sorted([*HEADERS["de"], "Summe"])
    text = picker.content.decode()
    assert "1 Bestellung wird exportiert." in text
    assert "Kein Filter und keine Suche: alle Zeilen der Liste." in text
    assert "Immer enthalten" in text
    assert "CSV-Dialekt" in text
    assert "Excel, Semikolon: UTF-8 mit BOM" in text
    assert "Excel-Arbeitsmappe (XLSX)" in text
    assert 'value="Herunterladen"' in text
    assert "Erneut herunterladen" in text
    english = client.get(EXPORT_ALL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 order will be exported." in english
    assert "Excel workbook (XLSX)" in english

    # A download from the admin: the headers in the request's language.
    response = client.post(EXPORT_ALL, {"exports_columns_chosen": "1"}, HTTP_ACCEPT_LANGUAGE="es")
    assert read_csv(body(response))[0] == [label for label in HEADERS["es"] if label != "Correo electrónico"]

    # Its messages.
    staff.user_permissions.remove(Permission.objects.get(codename="export_order"))
    refused = client.get(EXPORT_ALL, HTTP_ACCEPT_LANGUAGE="fr", follow=True)
    assert [str(message) for message in refused.context["messages"]] == [
        "Vous n’avez pas la permission d’exporter ces lignes."
    ]


def test_the_runs_admin_and_the_home_page_are_translated(admin_client, order):
    body(admin_client.get(URL))  # one run to list
    runs = admin_client.get("/admin/exports/exportrun/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Exportläufe" in runs
    assert "Abgeschlossen" in runs
    home = admin_client.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="es">' in home
    assert "Exportaciones que puede ejecutar" in home
    assert "Sus ejecuciones recientes" in home
