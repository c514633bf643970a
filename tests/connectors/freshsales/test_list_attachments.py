"""Listing one record's documents on the Freshsales simulator over HTTP (`GET /contacts/{id}?include=documents`,
side-loaded): what the loader reads to find an upload that a killed worker made but never recorded."""

from __future__ import annotations

import io

import httpx

from connectors.destinations.freshsales.connector import FreshsalesConnector


def test_a_records_documents_are_listed_with_name_and_size(connector: FreshsalesConnector, api: httpx.Client) -> None:
    [contact, other] = connector.insert("contacts", [{"last_name": "F"}, {"last_name": "G"}])
    assert connector.list_attachments("contacts", contact.id) == []
    data = b"%PDF-1.4 radiograph" * 100
    a = connector.attach("contacts", contact.id, file_name="xray.pdf", stream=io.BytesIO(data), size=len(data),
                         content_type="application/pdf")
    b = connector.attach("contacts", contact.id, file_name="consent.pdf", stream=io.BytesIO(b"%PDF"), size=4,
                         content_type="application/pdf")
    connector.attach("contacts", other.id, file_name="other.pdf", stream=io.BytesIO(b"%PDF"), size=4,
                     content_type="application/pdf")

    files = connector.list_attachments("contacts", contact.id)

    assert [(f.id, f.data["file_name"], f.data["size"]) for f in files] == [
        (a.id, "xray.pdf", len(data)), (b.id, "consent.pdf", 4)]
    body = api.get(f"contacts/{contact.id}", params={"include": "documents"}).json()
    assert body["contact"]["document_ids"] == [int(a.id), int(b.id)]
    assert "documents" not in api.get(f"contacts/{contact.id}").json()
