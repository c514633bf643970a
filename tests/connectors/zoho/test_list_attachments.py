"""Listing one record's files on the Zoho simulator over HTTP: what the loader reads to find an upload that a
killed worker made but never recorded (GET /crm/v8/{module}/{id}/Attachments, reference OAS "Get Attachments")."""

from __future__ import annotations

import io

import httpx

from .conftest import Served


def test_a_records_files_are_listed_with_name_and_size(served: Served) -> None:
    with served.connector() as conn:
        [contact, other] = conn.insert("Contacts", [{"Last_Name": "Kaya"}, {"Last_Name": "Demir"}])
        assert conn.list_attachments("Contacts", contact.id) == []      # 204: no file yet
        a = conn.attach("Contacts", contact.id, file_name="xray.png", stream=io.BytesIO(b"x" * 5000), size=5000,
                        content_type="image/png")
        b = conn.attach("Contacts", contact.id, file_name="consent.pdf", stream=io.BytesIO(b"%PDF"), size=4,
                        content_type="application/pdf")
        conn.attach("Contacts", other.id, file_name="other.pdf", stream=io.BytesIO(b"%PDF"), size=4,
                    content_type="application/pdf")

        files = conn.list_attachments("Contacts", contact.id)

    assert [(f.id, f.data["file_name"], f.data["size"]) for f in files] == [
        (a.id, "xray.png", 5000), (b.id, "consent.pdf", 4)]
    assert all(f.modified_at is not None for f in files)


def test_listing_pages_past_200_files(served: Served) -> None:
    with served.connector() as conn:
        [contact] = conn.insert("Contacts", [{"Last_Name": "Kaya"}])
        state = served.sim.state
        for n in range(205):   # placed directly: 205 uploads would only slow the test
            state.attachments[f"9{n:05d}"] = {"id": f"9{n:05d}", "File_Name": f"scan-{n}.png", "Size": "10",
                                             "Parent_Id": {"module": {"api_name": "Contacts"}, "id": contact.id}}
        files = conn.list_attachments("Contacts", contact.id)
    assert len(files) == 205 and files[-1].data["file_name"] == "scan-204.png"


def test_the_simulator_refuses_a_listing_without_fields_as_zoho_does(served: Served) -> None:
    with served.connector() as conn:
        [contact] = conn.insert("Contacts", [{"Last_Name": "Kaya"}])
        token = conn.client.access_token()
    response = httpx.get(f"{served.url}/crm/v8/Contacts/{contact.id}/Attachments",
                         headers={"Authorization": f"Zoho-oauthtoken {token}"}, timeout=10)
    assert response.status_code == 400
    assert response.json()["code"] == "REQUIRED_PARAM_MISSING"
