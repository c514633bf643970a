"""Reconciliation report files: every format carries the numbers and no record values; PDFs hold real text; the
chart is a self-contained SVG."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from openpyxl import load_workbook

from migrator.models import PortalMembership
from migrator.roles import CUSTOMERS
from migrator.services.downloads import download_token_make
from migrator.services.reconcile import reconciliation_run
from migrator.services.reconcile_report import FORMATS, bar_chart_svg, chart_bars, render
from tests.factories import UserFactory
from tests.pdf_text import pdf_text
from tests.services.reconcile_fakes import Story

pytestmark = pytest.mark.django_db

# Values of the story's records that must never reach a report file.
RECORD_VALUES = ("Name2", "Name10", "Edited in CRM", "Visit 1", "Someone already there", "xray.png")


@pytest.fixture
def report():
    story = Story()
    return reconciliation_run(migration=story.migration, source=story.source, destination=story.dest, seed=1)


def text_of(report, fmt: str) -> str:
    body = render(report, fmt)
    if fmt == "pdf":
        assert isinstance(body, bytes) and body.startswith(b"%PDF")
        return pdf_text(body)
    if fmt == "xlsx":
        assert isinstance(body, bytes)
        book = load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(" | ".join("" if c is None else str(c) for c in row)
                         for sheet in book.worksheets for row in sheet.iter_rows(values_only=True))
    assert isinstance(body, str)
    return body


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_carries_the_counts_and_reasons_without_record_values(report, fmt):
    text = text_of(report, fmt)
    assert "patient" in text and "MANDATORY_NOT_FOUND 1" in text
    assert "lookup_unresolved" in text
    for value in RECORD_VALUES:
        assert value not in text, f"{value!r} leaked into the {fmt} report"


def test_the_pdf_holds_its_tables_as_text(report):
    text = text_of(report, "pdf")
    for heading in ("Objects: source vs destination", "Orphans (children without their parent)",
                    "Owners: source vs destination", "Field-level diff of a random sample", "Attachments"):
        assert heading in text
    assert "Last_Name" in text and "Who_Id" in text           # field names of the diff, never their values
    assert "Verdict: Fail" in text


def test_the_json_file_is_the_report_data_with_its_verdict(report):
    data = json.loads(render(report, "json"))
    assert data["verdict"] == "fail" and data["report"] == report.pk
    assert data["data"]["summary"]["orphans"] == 3


def test_the_xlsx_has_one_sheet_per_table(report):
    book = load_workbook(io.BytesIO(render(report, "xlsx")), read_only=True)
    assert {"Objects source vs destinatio", "Orphans (children without th"} <= set(book.sheetnames)


def test_the_chart_has_a_source_and_a_destination_bar_per_object(report):
    bars = dict((name, (s, d)) for name, s, d in chart_bars(report))
    assert bars["patient"] == (10, 7) and bars["appointment"] == (4, 3)
    svg = str(bar_chart_svg(chart_bars(report)))
    assert svg.startswith("<svg") and svg.count("<rect") == 2 + 2 * len(bars)


def test_the_chart_loads_nothing_from_outside_and_escapes_its_labels():
    svg = str(bar_chart_svg([("<script>alert(1)</script>", 3, 2)]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert not re.search(r"(href|src)\s*=", svg)
    assert re.findall(r"https?://[^\"]+", svg) == ["http://www.w3.org/2000/svg"]  # the namespace, not a fetch


def test_the_html_report_embeds_the_chart_and_the_verdict(report):
    html = render(report, "html")
    assert "<svg" in html and "verdict-fail" in html and "Objects: source vs destination" in html


def test_an_empty_report_still_renders_in_every_format(report):
    report.data = {"objects": [], "orphans": []}
    for fmt in FORMATS:
        assert render(report, fmt)


def test_the_portal_download_uses_these_renderers(client, report):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=CUSTOMERS))
    PortalMembership.objects.create(user=user, client=report.migration.client)
    client.force_login(user)
    token = download_token_make(user_id=user.pk, kind="reconciliation", object_id=report.pk, fmt="html")
    html = client.get(reverse("portal:download", args=[token])).content.decode()
    assert "<svg" in html and "Objects: source vs destination" in html
    assert not any(value in html for value in RECORD_VALUES)
