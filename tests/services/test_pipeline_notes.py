"""Notes, files and overflow through the loader, into the Zoho and Freshsales simulators over HTTP: inline images
re-hosted as attachments of the note's parent and linked from the note, text too long for its field kept as a
continuation note, files streamed, and no duplicate after a re-run or a worker killed between a write and its
bookkeeping. Rollback removes what was added."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from migrator.models import AuditEntry, Migration, RecordLink, Run
from migrator.services.rollback import rollback_start
from migrator.services.runs import run_drive

from .notes_support import (
    PNG_A,
    PNG_B,
    Crashing,
    FakeSource,
    Killed,
    img,
    load,
    map_objects,
    new_run,
)
from .rollback_support import migration_to, served_freshsales, served_zoho

pytestmark = pytest.mark.django_db

HISTORY = "Allergic to penicillin. " * 20     # 480 characters: 200 fit, 280 overflow


@pytest.fixture
def zoho() -> Iterator[dict[str, Any]]:
    with served_zoho() as (sim, url):
        migration = migration_to("zoho-crm", url, sim, state=Migration.State.LOADED)
        yield {"sim": sim, "migration": migration, "maps": map_objects(migration)}


def _source() -> FakeSource:
    return FakeSource(
        patients=[{"id": "P1", "last_name": "Yilmaz", "history": HISTORY},
                  {"id": "P2", "last_name": "Demir", "history": "none"}],
        notes=[{"id": "N1", "patient_id": "P1",
                "text": f"<p>Panoramic before</p><p>{img(PNG_A)}</p><p>and after</p>{img(PNG_B, 'image/jpeg')}"},
               {"id": "N2", "patient_id": "P2", "text": "<p>Plain note</p>"}],
        documents=[{"id": "D1", "patient_id": "P1"}],
        files={"D1": [("consent.pdf", b"%PDF-1.4 consent " * 5000), ("xray.pdf", b"%PDF-1.4 xray " * 300)]},
    )


def _load_all(migration: Migration, maps: dict[str, Any], source: FakeSource, run: Run | None = None) -> Run:
    run = run or new_run(migration)
    for name in ("patient", "note", "document"):
        load(run, maps[name], source)
    return run


def _zoho_files(sim: Any, parent_id: str) -> list[dict[str, Any]]:
    return [a for a in sim.state.attachments.values() if a["Parent_Id"]["id"] == parent_id]


def _zoho_notes(sim: Any, parent_id: str) -> list[dict[str, Any]]:
    return [n for n in sim.state.records["Notes"].values() if n["Parent_Id"]["id"] == parent_id]


def _contact(migration: Migration, source_id: str) -> str:
    return RecordLink.objects.get(migration=migration, source_object="patient", source_id=source_id,
                                  role=RecordLink.Role.RECORD).destination_id


# --------------------------------------------------------------------------------------------------- inline images


def test_inline_images_become_attachments_of_the_notes_parent_and_the_note_links_them(zoho: dict[str, Any]) -> None:
    sim, migration = zoho["sim"], zoho["migration"]
    _load_all(migration, zoho["maps"], _source())

    contact = _contact(migration, "P1")
    images = {a["File_Name"]: a for a in _zoho_files(sim, contact) if "image" in a["File_Name"]}
    assert sorted(images) == ["note-N1-image-1.png", "note-N1-image-2.jpg"]
    assert int(images["note-N1-image-1.png"]["Size"]) == len(PNG_A)
    [note] = [n for n in _zoho_notes(sim, contact) if n.get("Note_Title", "").startswith("Clinical note")]
    content = note["Note_Content"]
    assert "data:image" not in content
    for name, attachment in images.items():
        assert f"{name}, attachment {attachment['id']}]" in content
    assert content.index("Panoramic before") < content.index("image-1.png") < content.index("and after") \
        < content.index("image-2.jpg")
    links = RecordLink.objects.filter(migration=migration, source_object="note", destination_module="Attachments")
    assert {(lk.source_id, lk.destination_id, lk.parent_id, lk.role) for lk in links} == {
        ("N1#img1", images["note-N1-image-1.png"]["id"], contact, RecordLink.Role.CHILD),
        ("N1#img2", images["note-N1-image-2.jpg"]["id"], contact, RecordLink.Role.CHILD)}
    audits = AuditEntry.objects.filter(migration=migration, source_object="note", source_id="N1")
    assert sorted((a.op, a.error_code) for a in audits) == [("attach", "INLINE_IMAGE"), ("attach", "INLINE_IMAGE"),
                                                           ("create", "")]


def test_a_second_run_creates_no_duplicate_note_attachment_or_file(zoho: dict[str, Any]) -> None:
    sim, migration = zoho["sim"], zoho["migration"]
    _load_all(migration, zoho["maps"], _source())
    before = (len(sim.state.attachments), len(sim.state.records["Notes"]), len(sim.state.records["Contacts"]))

    second = _load_all(migration, zoho["maps"], _source())

    assert (len(sim.state.attachments), len(sim.state.records["Notes"]),
            len(sim.state.records["Contacts"])) == before
    ops = set(AuditEntry.objects.filter(run=second).values_list("op", "error_code"))
    assert ops == {("skip", "UNCHANGED")}


def test_a_worker_killed_between_an_image_upload_and_its_commit_does_not_upload_it_twice(
        zoho: dict[str, Any]) -> None:
    sim, migration, maps = zoho["sim"], zoho["migration"], zoho["maps"]
    source = _source()
    run = new_run(migration)
    load(run, maps["patient"], source)
    with pytest.raises(Killed):
        load(run, maps["note"], source, dest=lambda real: Crashing(real, "attach", after=1))
    contact = _contact(migration, "P1")
    assert len(_zoho_files(sim, contact)) == 1
    intent = RecordLink.objects.get(migration=migration, source_id="N1#img1")
    assert intent.destination_id == ""

    unit = load(run, maps["note"], source)

    images = _zoho_files(sim, contact)
    assert len(images) == 2
    intent.refresh_from_db()
    assert intent.destination_id == next(a["id"] for a in images if a["File_Name"] == "note-N1-image-1.png")
    [note] = [n for n in _zoho_notes(sim, contact) if n.get("Note_Title", "").startswith("Clinical note")]
    assert all(f"attachment {a['id']}]" in note["Note_Content"] for a in images)
    assert unit.processed == 2


def test_a_worker_killed_after_a_note_insert_with_images_recovers_the_note(zoho: dict[str, Any]) -> None:
    sim, migration, maps = zoho["sim"], zoho["migration"], zoho["maps"]
    source = _source()
    run = new_run(migration)
    load(run, maps["patient"], source)
    with pytest.raises(Killed):
        load(run, maps["note"], source, dest=lambda real: Crashing(real, "insert", after=1))

    load(run, maps["note"], source)

    contact = _contact(migration, "P1")
    assert len(_zoho_notes(sim, contact)) == 2          # the note and the history's continuation: once each
    assert len(_zoho_files(sim, contact)) == 2
    assert not RecordLink.objects.filter(migration=migration, destination_id="").exists()


# --------------------------------------------------------------------------------------------------- files


def test_files_are_streamed_and_a_kill_after_an_upload_is_recovered_by_name_and_size(
        zoho: dict[str, Any]) -> None:
    sim, migration, maps = zoho["sim"], zoho["migration"], zoho["maps"]
    source = _source()
    run = new_run(migration)
    load(run, maps["patient"], source)
    with pytest.raises(Killed):
        load(run, maps["document"], source, dest=lambda real: Crashing(real, "attach", after=1))
    contact = _contact(migration, "P1")
    assert [a["File_Name"] for a in _zoho_files(sim, contact)] == ["consent.pdf"]

    unit = load(run, maps["document"], source)

    files = {a["File_Name"]: a["id"] for a in _zoho_files(sim, contact)}
    assert sorted(files) == ["consent.pdf", "xray.pdf"]
    links = dict(RecordLink.objects.filter(migration=migration, source_object="document")
                 .values_list("source_id", "destination_id"))
    assert links == {"D1": files["consent.pdf"], "D1#2": files["xray.pdf"]}
    assert unit.processed == 1
    assert all(s.reads > 1 for s in source.opened)      # bounded chunks, never the whole file at once
    ops = sorted(AuditEntry.objects.filter(run=run, source_object="document").values_list("op", flat=True))
    assert ops == ["attach", "attach"]


def test_a_file_over_the_destinations_cap_is_skipped_with_its_reason(zoho: dict[str, Any]) -> None:
    sim, migration, maps = zoho["sim"], zoho["migration"], zoho["maps"]
    source = _source()
    source.files["D1"] = [("cbct.dcm", b"\0" * (26 << 20))]       # the enterprise edition takes 25 MB a file
    run = new_run(migration)
    load(run, maps["patient"], source)
    load(run, maps["document"], source)

    [audit] = AuditEntry.objects.filter(run=run, source_object="document")
    assert (audit.op, audit.error_code) == ("skip", "FILE_TOO_LARGE")
    assert "external storage" in audit.error_message
    assert not RecordLink.objects.filter(migration=migration, source_object="document").exists()
    assert _zoho_files(sim, _contact(migration, "P1")) == []


# --------------------------------------------------------------------------------------------------- overflow


def test_text_longer_than_its_field_is_kept_as_a_continuation_note_on_the_same_record(
        zoho: dict[str, Any]) -> None:
    sim, migration, maps = zoho["sim"], zoho["migration"], zoho["maps"]
    run = new_run(migration)
    load(run, maps["patient"], _source())

    contact = _contact(migration, "P1")
    assert sim.state.records["Contacts"][contact]["Description"] == HISTORY[:200]
    [note] = _zoho_notes(sim, contact)
    assert note["Note_Title"] == "Description (continued)"
    assert note["Note_Content"] == HISTORY[200:]
    link = RecordLink.objects.get(migration=migration, source_id="P1#overflow:Description")
    assert (link.role, link.destination_module, link.destination_id, link.parent_id) == (
        RecordLink.Role.CHILD, "Notes", note["id"], contact)
    audits = list(AuditEntry.objects.filter(run=run, source_id="P1").order_by("id").values_list(
        "op", "destination_module", "error_code"))
    assert audits == [("create", "Contacts", ""), ("create", "Notes", "OVERFLOW_NOTE")]

    load(new_run(migration), maps["patient"], _source())
    assert len(_zoho_notes(sim, contact)) == 1


def test_a_kill_after_the_record_but_before_its_overflow_note_writes_the_note_on_resume(
        zoho: dict[str, Any]) -> None:
    sim, migration, maps = zoho["sim"], zoho["migration"], zoho["maps"]
    run = new_run(migration)
    with pytest.raises(Killed):
        load(run, maps["patient"], _source(), dest=lambda real: Crashing(real, "insert", after=1))
    assert len(sim.state.records["Contacts"]) == 2 and not sim.state.records["Notes"]

    load(run, maps["patient"], _source())

    assert len(sim.state.records["Contacts"]) == 2
    [note] = _zoho_notes(sim, _contact(migration, "P1"))
    assert note["Note_Content"] == HISTORY[200:]
    assert AuditEntry.objects.filter(run=run, source_id="P1", error_code="OVERFLOW_NOTE").count() == 1


# --------------------------------------------------------------------------------------------------- rollback


def test_rollback_removes_the_notes_images_files_and_continuation_notes_it_added(
        zoho: dict[str, Any], django_capture_on_commit_callbacks: Any) -> None:
    sim, migration = zoho["sim"], zoho["migration"]
    run = _load_all(migration, zoho["maps"], _source())
    Run.objects.filter(pk=run.pk).update(state=Run.State.COMPLETED)
    assert len(sim.state.attachments) == 4 and len(sim.state.records["Notes"]) == 3

    with django_capture_on_commit_callbacks(execute=True):
        rollback = rollback_start(migration=migration)
        rollback = run_drive(run_id=rollback.pk, max_wait=60)

    assert rollback.state == Run.State.COMPLETED, rollback.error
    assert sim.state.attachments == {}
    assert sim.state.records["Notes"] == {} and sim.state.records["Contacts"] == {}
    assert not RecordLink.objects.filter(migration=migration).exists()


# --------------------------------------------------------------------------------------------------- Freshsales


def test_freshsales_images_and_files_survive_a_kill_after_upload_without_duplicates() -> None:
    with served_freshsales() as (sim, url):
        migration = migration_to("freshsales", url, sim, state=Migration.State.LOADED)
        maps = map_objects(migration)
        source = _source()
        run = new_run(migration)
        load(run, maps["patient"], source)
        with pytest.raises(Killed):
            load(run, maps["note"], source, dest=lambda real: Crashing(real, "attach", after=1))
        with pytest.raises(Killed):
            load(run, maps["document"], source, dest=lambda real: Crashing(real, "attach", after=1))

        load(run, maps["note"], source)
        load(run, maps["document"], source)

        contact = int(_contact(migration, "P1"))
        documents = [d for d in sim.state.records["documents"].values() if d["targetable_id"] == contact]
        assert sorted(d["file_name"] for d in documents) == [
            "consent.pdf", "note-N1-image-1.png", "note-N1-image-2.jpg", "xray.pdf"]
        notes = [n for n in sim.state.records["notes"].values() if n["targetable_id"] == contact]
        [clinical] = [n for n in notes if "Panoramic" in n["description"]]
        assert all(f"attachment {d['id']}]" in clinical["description"] for d in documents if "image" in d["file_name"])
        assert any(n["description"].startswith("Address (continued)") for n in notes)
        assert not RecordLink.objects.filter(migration=migration, destination_id="").exists()
