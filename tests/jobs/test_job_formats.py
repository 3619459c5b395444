"""Background exports in every format: the URL's extension and ``?dialect=`` travel with the job, the stored file
is the one the direct download gives, with its format's media type; only text formats are gzipped; the worker runs
in the language the job was asked in."""

from __future__ import annotations

import gzip
import io

import openpyxl
import pytest
from django.utils import translation

from exports import Column, Export, jobs
from exports.job_models import ExportJob
from exports.runs import Surface, prepare
from orders.models import Order
from tests.conftest import body
from tests.jobs.conftest import post_export

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/exports/orders.tsv", "text/tab-separated-values; charset=utf-8"),
        ("/exports/orders.jsonl", "application/jsonl"),
        ("/exports/orders.csv?dialect=excel-semicolon", "text/csv; charset=utf-8"),
    ],
)
def test_a_posted_text_format_is_stored_as_the_direct_download_gives_it(
    client, exporter, make_orders, run_worker, path, media_type
):
    make_orders(6)
    client.force_login(exporter)
    response, job = post_export(client, path)
    assert response.status_code == 202
    run_worker()
    job.refresh_from_db()
    assert job.state == "completed", job.error
    download = client.get(f"/exports/jobs/{job.pk}/download")
    assert download["Content-Type"] == media_type
    extension = path.split("?")[0].rsplit(".", 1)[1]
    assert download["Content-Disposition"].endswith(f'.{extension}"')
    assert body(download) == body(client.get(path))


def test_the_dialect_is_kept_with_the_job(client, exporter, make_orders, run_worker):
    make_orders(2)
    client.force_login(exporter)
    _, job = post_export(client, "/exports/orders.csv?dialect=excel")
    assert (job.format, job.dialect) == ("csv", "excel")
    run_worker()
    data = body(client.get(f"/exports/jobs/{job.pk}/download"))
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data


def test_an_unknown_dialect_or_extension_queues_nothing(client, exporter, make_orders):
    make_orders(2)
    client.force_login(exporter)
    assert client.post("/exports/orders.csv?dialect=nope").status_code == 400
    assert client.post("/exports/orders.nope").status_code == 404
    assert not ExportJob.objects.exists()


def test_only_text_formats_are_gzipped(client, exporter, make_orders, run_worker, settings):
    make_orders(3)
    settings.EXPORTS_JOB_GZIP = True
    client.force_login(exporter)
    _, text_job = post_export(client, "/exports/orders.tsv")
    _, workbook_job = post_export(client, "/exports/orders.xlsx")
    run_worker()
    text = client.get(f"/exports/jobs/{text_job.pk}/download")
    assert (text["Content-Type"], text["Content-Disposition"].endswith('.tsv.gz"')) == ("application/gzip", True)
    assert len(gzip.decompress(body(text)).splitlines()) == 4
    workbook = client.get(f"/exports/jobs/{workbook_job.pk}/download")
    assert workbook["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert workbook["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(body(workbook)), read_only=True).active
    assert sheet is not None and len(list(sheet.iter_rows())) == 4


def test_the_worker_runs_in_the_language_the_job_was_asked_in(exporter, make_orders, run_worker, temporary_export):
    seen: list[str | None] = []

    def language_of_the_run(reference: str) -> str:
        seen.append(translation.get_language())
        return reference

    export = temporary_export(
        Export(Order, name="orders-language", columns=["id", Column("reference", format=language_of_the_run)])
    )
    make_orders(2)
    with translation.override("fr"):
        job, _ = jobs.submit(prepare(export, surface=Surface.COMMAND))
    assert job.language == "fr"
    with translation.override("en"):
        run_worker()
    job.refresh_from_db()
    assert job.state == "completed", job.error
    assert seen == ["fr", "fr"]
