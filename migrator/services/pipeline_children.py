"""What a unit's records bring along besides themselves: files attached to the parent record, images inside
rich-text notes re-hosted as attachments of the note's parent, and text too long for its field kept as a
continuation note on the same record. Mixed into the pipeline's UnitLoader.

Every child has its crosswalk row (RecordLink, role CHILD) and is written crash-safely (ARCHITECTURE.md,
invariant 1): an *intent* (a link with no destination id) is committed before the upload or insert; on resume an
intent is resolved by finding what we wrote (a file by name and size among the parent's attachments, a note by
its text) before anything is written again. Link source ids:
- a record's files: `<id>` for the first, `<id>#2`, `<id>#3`... for the others (as the parts of a split note);
- inline images: `<note id>#img1`, `#img2`... in the order they appear in the note;
- overflow: `<id>#overflow:<field>`, then `...#2`, `...#3` when the text needs several notes.
Their audit rows carry the record's own source id, and are added only once the record is accounted for: a batch
read again after a stop skips records with an outcome, so an outcome must never come before its children.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connectors.base import (
    BudgetExhausted,
    ConnectorError,
    DestRecord,
    PermanentError,
    SourceRecord,
    TemporaryError,
    WriteResult,
)
from migrator.models import AuditEntry, RecordLink, Run
from migrator.services import plan as plans
from migrator.services.transforms.text import chunks

if TYPE_CHECKING:
    from connectors.base import DestinationConnector, SourceConnector
    from migrator.models import Migration
    from migrator.services.pipeline import BatchResult, Item

ATTACHMENTS = "Attachments"   # the crosswalk's module for files on a parent record (rollback.ATTACHMENTS)
CHILD = RecordLink.Role.CHILD
Op = AuditEntry.Op
INLINE_IMAGE = re.compile(
    r"""<img\b[^>]*?\bsrc\s*=\s*(["'])data:(image/[\w.+-]+);base64,([A-Za-z0-9+/=\s]*)\1[^>]*>""", re.IGNORECASE)
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/jpg": "jpg", "image/gif": "gif", "image/webp": "webp",
              "image/bmp": "bmp", "image/svg+xml": "svg", "image/tiff": "tif"}
# Where a destination keeps notes: module, title field ("" when notes have none), text field
# (reference/zoho-crm-v8.md "Notes, attachments, activities"; reference/freshsales.md "Resources").
NOTE_SHAPES = {"zoho-crm": ("Notes", "Note_Title", "Note_Content"), "freshsales": ("notes", "", "description")}
# Characters per continuation note: under the 32 KB a note may hold even at 4 bytes a character (seeds).
OVERFLOW_CHUNK = 8000

# (module, parent id) -> the parent's files and the ids our links already hold
Listing = dict[tuple[str, str], tuple[list[DestRecord], set[str]]]


@dataclass
class HeldOutcome:
    """A record written with text that did not fit: its audit row waits until the overflow note is written."""

    item: Item
    audit: dict[str, Any]
    parent_module: str
    parent_id: str
    notes: list[Item] = field(default_factory=list)


def file_key(source_id: str, n: int) -> str:
    return source_id if n == 0 else f"{source_id}#{n + 1}"


def image_name(record: SourceRecord, n: int, mime: str) -> str:
    safe = re.sub(r"[^\w.-]+", "_", f"{record.object_name}-{record.source_id}")
    return f"{safe}-image-{n}.{EXTENSIONS.get(mime, 'bin')}"


def image_reference(n: int, file_name: str, attachment_id: str) -> str:
    return f"[Image {n}: {file_name}, attachment {attachment_id}]"


class ChildWrites:
    """Files, inline images and overflow notes. Uses the UnitLoader's connectors, run and crosswalk."""

    migration: Migration
    run: Run
    source: SourceConnector
    dest: DestinationConnector
    tables: list[Any]

    # -------------------------------------------------------------- crosswalk rows

    def _child_links(self, object_name: str, source_ids: Sequence[str], module: str) -> dict[str, RecordLink]:
        return {lk.source_id: lk for lk in RecordLink.objects.filter(
            migration=self.migration, source_object=object_name, source_id__in=list(source_ids),
            destination_module=module)}

    def _child_intent(self, object_name: str, source_id: str, module: str, parent_module: str, parent_id: str,
                      content_hash: str) -> RecordLink:
        """Committed at once (autocommit), before the write it announces."""
        return RecordLink.objects.create(
            migration=self.migration, role=CHILD, source_object=object_name, source_id=source_id,
            destination_module=module, destination_id="", content_hash=content_hash, parent_module=parent_module,
            parent_id=parent_id, created_run=self.run, last_run=self.run)

    def _child_done(self, link: RecordLink, r: WriteResult, content_hash: str, result: BatchResult) -> None:
        link.destination_id = r.id
        link.content_hash = content_hash
        link.destination_modified_at = r.modified_at
        link.last_run = self.run
        result.links.append(link)

    @staticmethod
    def _drop_intent(link: RecordLink) -> None:
        """Nothing was written (refused before or at the upload): an intent left behind would read as unknown."""
        if link.pk and not link.destination_id:
            link.delete()

    def _done_now(self, link: RecordLink) -> bool:
        """Completed by this run in an attempt whose audit rows were not kept (a stop before its record's outcome)."""
        return link.last_run_id == self.run.pk

    # -------------------------------------------------------------- finding an interrupted upload

    def _find_upload(self, listing: Listing, module: str, parent_id: str, file_name: str, size: int) -> str | None:
        """A file of this name and size on the parent that no link of ours holds: the upload an intent announced.
        Raises PermanentError when the destination cannot list a record's files."""
        key = (module, parent_id)
        if key not in listing:
            lister = getattr(self.dest, "list_attachments", None)
            if lister is None:
                raise PermanentError(f"{self.dest.slug} cannot list a record's files", code="NO_LIST_API")
            files: list[DestRecord] = lister(module, parent_id)
            taken = set(RecordLink.objects.filter(
                migration=self.migration, destination_module=ATTACHMENTS, parent_module=module, parent_id=parent_id,
            ).exclude(destination_id="").values_list("destination_id", flat=True))
            listing[key] = (files, taken)
        files, taken = listing[key]
        for f in files:
            if f.id not in taken and f.data.get("file_name") == file_name and f.data.get("size") == size:
                taken.add(f.id)
                return f.id
        return None

    @staticmethod
    def _taken(listing: Listing, module: str, parent_id: str, attachment_id: str) -> None:
        if (module, parent_id) in listing:
            listing[(module, parent_id)][1].add(attachment_id)

    # -------------------------------------------------------------- files of the source

    def _write_attachments(self, items: list[Item], result: BatchResult, position: Mapping[int, int]) -> None:
        """Each file streamed from the source to the parent record (one open file at a time); over the
        destination's cap → skipped with its reason and listed for external storage."""
        listing: Listing = {}
        for i in items:
            refs = self.source.attachments_of(i.record)
            if not refs:
                result.audit(self.run, i, Op.SKIP, error_code="NO_FILE",
                             error_message="the export lists no file for this record")
                continue
            keys = [file_key(i.record.source_id, n) for n in range(len(refs))]
            links = self._child_links(i.record.object_name, keys, ATTACHMENTS)
            outcomes: list[tuple[str, dict[str, Any]]] = []
            waits = False
            for key, ref in zip(keys, refs, strict=True):
                link = links.get(key)
                where = {"destination_module": ATTACHMENTS}
                if link is not None and link.destination_id:
                    # Attached before (files do not change in place); audited here if a stop lost its audit row.
                    if self._done_now(link):
                        outcomes.append((Op.ATTACH, {**where, "destination_id": link.destination_id}))
                    continue
                if link is not None:
                    try:
                        found = self._find_upload(listing, i.parent_module, i.parent_id, ref.file_name, ref.size)
                    except PermanentError:
                        outcomes.append((Op.FAIL, {**where, "error_code": "OUTCOME_UNKNOWN", "error_message": (
                            "an upload was interrupted and the destination cannot list the record's files; check it "
                            "by hand")}))
                        continue
                    if found:
                        self._child_done(link, WriteResult(index=0, ok=True, id=found), i.hash, result)
                        outcomes.append((Op.ATTACH, {**where, "destination_id": found}))
                        continue
                else:
                    link = self._child_intent(i.record.object_name, key, ATTACHMENTS, i.parent_module, i.parent_id,
                                              i.hash)
                with ExitStack() as stack:
                    try:
                        stream = stack.enter_context(self.source.open_attachment(ref))
                    except (ConnectorError, OSError) as exc:
                        self._drop_intent(link)
                        outcomes.append((Op.FAIL, {"error_code": getattr(exc, "code", "") or "FILE_UNREADABLE",
                                                   "error_message": getattr(exc, "message", "")
                                                   or "the file cannot be read"}))
                        continue
                    r = self.dest.attach(i.parent_module, i.parent_id, file_name=ref.file_name, stream=stream,
                                         size=ref.size, content_type=ref.content_type)
                if r.ok:
                    self._child_done(link, r, i.hash, result)
                    self._taken(listing, i.parent_module, i.parent_id, r.id)
                    outcomes.append((Op.ATTACH, {**where, "destination_id": r.id}))
                elif not r.permanent:
                    waits = True    # the intent stays: the next attempt looks for this upload first
                    break
                else:
                    self._drop_intent(link)
                    outcomes.append(_refused(r, ref.size, i.parent_module, i.parent_id))
            if waits:
                result.retry.append(position.get(id(i.record), 0))
                continue
            if not outcomes and self.run.kind != Run.Kind.DELTA:
                outcomes.append((Op.SKIP, {"destination_module": ATTACHMENTS, "error_code": "UNCHANGED",
                                           "error_message": "the destination already holds these files"}))
            for op, kw in outcomes:
                result.audit(self.run, i, op, **kw)

    # -------------------------------------------------------------- inline images of rich-text notes

    def _rehost_images(self, item: Item, result: BatchResult, position: Mapping[int, int]) -> bool:
        """Upload the note's inline images as attachments of its parent and transform the note again with each
        image replaced by a reference to its attachment. False when the note must wait (a temporary failure,
        queued for retry) or failed (audited)."""
        from migrator.services.pipeline import DEFERRED

        data = plans.joined(item.record, self.tables) if self.tables else dict(item.record.data)
        found = [(name, m) for name, value in data.items() if isinstance(value, str) and "data:image/" in value
                 for m in INLINE_IMAGE.finditer(value)]
        if not found:
            return True
        obj, sid = item.record.object_name, item.record.source_id
        keys = [f"{sid}#img{n}" for n in range(1, len(found) + 1)]
        links = self._child_links(obj, keys, ATTACHMENTS)
        listing: Listing = {}
        texts: list[str] = []
        outcomes: list[tuple[str, dict[str, Any]]] = []
        for n, (key, (source_field, m)) in enumerate(zip(keys, found, strict=True), start=1):
            mime = m.group(2).lower()
            where = {"destination_module": ATTACHMENTS, "error_code": "INLINE_IMAGE", "error_field": source_field}
            try:
                body = base64.b64decode("".join(m.group(3).split()), validate=True)
            except (binascii.Error, ValueError):
                body = b""
            if not body:
                texts.append(f"[Image {n}: not migrated, unreadable in the source]")
                outcomes.append((Op.SKIP, {**where, "error_code": "INLINE_IMAGE_UNREADABLE",
                                           "error_message": f"inline image {n} of the note is not valid base64"}))
                continue
            name = image_name(item.record, n, mime)
            digest = plans.content_hash({"image": base64.b64encode(body).decode()})
            link = links.get(key)
            if link is not None and link.destination_id:
                texts.append(image_reference(n, name, link.destination_id))
                if self._done_now(link):
                    outcomes.append((Op.ATTACH, {**where, "destination_id": link.destination_id}))
                continue
            if link is not None:
                try:
                    attached = self._find_upload(listing, item.parent_module, item.parent_id, name, len(body))
                except PermanentError:
                    result.audit(self.run, item, Op.FAIL, destination_module=ATTACHMENTS, error_code="OUTCOME_UNKNOWN",
                                 error_message="an image upload was interrupted and the destination cannot list the "
                                               "record's files; check the parent record by hand")
                    return False
                if attached:
                    self._child_done(link, WriteResult(index=0, ok=True, id=attached), digest, result)
                    texts.append(image_reference(n, name, attached))
                    outcomes.append((Op.ATTACH, {**where, "destination_id": attached}))
                    continue
            else:
                link = self._child_intent(obj, key, ATTACHMENTS, item.parent_module, item.parent_id, digest)
            r = self.dest.attach(item.parent_module, item.parent_id, file_name=name, stream=io.BytesIO(body),
                                 size=len(body), content_type=mime)
            if r.ok:
                self._child_done(link, r, digest, result)
                self._taken(listing, item.parent_module, item.parent_id, r.id)
                texts.append(image_reference(n, name, r.id))
                outcomes.append((Op.ATTACH, {**where, "destination_id": r.id}))
            elif not r.permanent:
                result.retry.append(position.get(id(item.record), 0))
                return False
            else:
                self._drop_intent(link)
                texts.append(f"[Image {n}: {name}, not migrated ({r.code or 'refused'})]")
                outcomes.append(_refused(r, len(body), item.parent_module, item.parent_id))
        out = item.plan.transform(_replaced(data, found, texts))
        if not out.ok:
            result.audit(self.run, item, Op.FAIL, destination_module=item.plan.module, error_code=out.error_code,
                         error_field=out.error_field, error_message=out.error_message)
            return False
        item.payload = {k: plans.wire_value(v) for k, v in out.payload.items() if v != DEFERRED}
        item.overflow = out.overflow
        self._image_outcomes()[id(item)] = outcomes
        return True

    def _image_outcomes(self) -> dict[int, list[tuple[str, dict[str, Any]]]]:
        held: dict[int, list[tuple[str, dict[str, Any]]]] = self.__dict__.setdefault("_held_images", {})
        return held

    def _audit_images(self, items: Sequence[Item], result: BatchResult) -> None:
        """The images' audit rows, after their note's own outcome (never before: see the module's docstring)."""
        held = self._image_outcomes()
        accounted = {(a.source_object, a.source_id) for a in result.audits}
        for i in items:
            outcomes = held.pop(id(i), None)
            if outcomes and (i.record.object_name, i.record.source_id) in accounted:
                for op, kw in outcomes:
                    result.audit(self.run, i, op, **kw)

    # -------------------------------------------------------------- text that did not fit

    def _hold_for_overflow(self, item: Item, result: BatchResult, audit: dict[str, Any], role: str,
                           module: str) -> bool:
        """Keep the record's audit row back until its overflow is written as a note on the same record (the
        parent, for a note or merged fields). False when there is nothing to keep."""
        if not item.overflow or self.dest.slug not in NOTE_SHAPES or module == ATTACHMENTS:
            return False
        link = item.link
        if role == RecordLink.Role.RECORD and link is not None:
            parent_module, parent_id = item.plan.module, link.destination_id
        else:
            parent_module, parent_id = item.parent_module, item.parent_id
        if not parent_id:
            return False
        result.held.append(HeldOutcome(item=item, audit=audit, parent_module=parent_module, parent_id=parent_id))
        return True

    def _overflow_notes(self, held: HeldOutcome) -> list[Item]:
        from connectors.destinations.links import parent_fields
        from migrator.services.pipeline import Item

        module, title_field, text_field = NOTE_SHAPES[self.dest.slug]
        item, notes = held.item, []
        for field_name, text in item.overflow:
            dest_field = item.plan.dest_fields.get(field_name)
            label = (dest_field.label if dest_field is not None else "") or field_name
            parts = chunks(text, OVERFLOW_CHUNK)
            for n, part in enumerate(parts, start=1):
                title = f"{label} (continued)" + (f" {n}/{len(parts)}" if len(parts) > 1 else "")
                payload: dict[str, Any] = {text_field: part if title_field else f"{title}\n\n{part}",
                                           **parent_fields(self.dest.slug, module, held.parent_module,
                                                           held.parent_id)}
                if title_field:
                    payload[title_field] = title[:120]
                sid = f"{item.record.source_id}#overflow:{field_name}" + (f"#{n}" if n > 1 else "")
                record = SourceRecord(object_name=item.record.object_name, source_id=sid, data={},
                                      cursor=item.record.cursor)
                notes.append(Item(record=record, plan=item.plan, payload=payload, parent_module=held.parent_module,
                                  parent_id=held.parent_id, hash=plans.content_hash({"overflow": payload})))
        return notes

    def _overflow_kept(self, item: Item) -> bool:
        """Every overflow note of this record is in the destination (checked before calling it unchanged)."""
        if not item.overflow or self.dest.slug not in NOTE_SHAPES:
            return True
        module = NOTE_SHAPES[self.dest.slug][0]
        wanted = {f"{item.record.source_id}#overflow:{name}" for name, _ in item.overflow}
        return RecordLink.objects.filter(migration=self.migration, source_object=item.record.object_name,
                                         source_id__in=wanted, destination_module=module).exclude(
            destination_id="").count() == len(wanted)

    def _write_overflow(self, result: BatchResult, position: Mapping[int, int]) -> None:
        """Write the held records' overflow notes (insert with intents, or update a note whose text changed),
        then release the records' audit rows followed by their notes'. A record whose note failed temporarily
        gets no row: it is retried, and its overflow with it."""
        held, result.held = result.held, []
        if not held:
            return
        module = NOTE_SHAPES[self.dest.slug][0]
        for h in held:
            h.notes = self._overflow_notes(h)
            links = self._child_links(h.item.record.object_name, [n.record.source_id for n in h.notes], module)
            for note in h.notes:
                note.link = links.get(note.record.source_id)
        notes = [n for h in held for n in h.notes]
        answers: dict[int, tuple[str, WriteResult]] = {}
        updates = [n for n in notes if n.link is not None and n.link.destination_id and n.link.content_hash != n.hash]
        old = [n for n in notes if n.link is not None and not n.link.destination_id]
        if old:
            try:
                found = self._recover(module, old)  # type: ignore[attr-defined]
            except PermanentError:
                found = {}
                for n in old:
                    answers[id(n)] = (Op.FAIL, WriteResult(index=0, ok=False, code="OUTCOME_UNKNOWN", message=(
                        "a note write was interrupted and the destination cannot be searched for it; check the "
                        "record by hand")))
            for n in old:
                if n.record.source_id in found:
                    answers[id(n)] = (Op.CREATE, WriteResult(index=0, ok=True, id=found[n.record.source_id]))
        news = [n for n in notes if id(n) not in answers and (n.link is None or not n.link.destination_id)]
        for n in news:
            if n.link is None:
                n.link = self._child_intent(n.record.object_name, n.record.source_id, module, n.parent_module,
                                            n.parent_id, n.hash)
        if news:
            try:
                results = self.dest.insert(module, [n.payload for n in news])
            except BudgetExhausted as exc:
                # Notes written before the pause (the connector hands back their results) keep their link.
                for n, r in zip(news, getattr(exc, "results", None) or [], strict=False):
                    if r.ok:
                        self._child_done(n.link, r, n.hash, result)  # type: ignore[arg-type]
                raise
            if len(results) != len(news):
                raise TemporaryError(f"the destination answered {len(results)} results for {len(news)} notes",
                                     code="RESULT_COUNT")
            for n, r in zip(news, results, strict=True):
                answers[id(n)] = (Op.CREATE, r)
        if updates:
            payloads = [{"id": n.link.destination_id, **n.payload} for n in updates]  # type: ignore[union-attr]
            for n, r in zip(updates, self.dest.update(module, payloads), strict=True):
                answers[id(n)] = (Op.UPDATE, r)
        for h in held:
            self._release(h, answers, result, position, module)

    def _release(self, h: HeldOutcome, answers: Mapping[int, tuple[str, WriteResult]], result: BatchResult,
                 position: Mapping[int, int], module: str) -> None:
        outcomes = [(n, *answers.get(id(n), ("", _DONE))) for n in h.notes]
        for n, op, r in outcomes:
            if op and r.ok:
                self._child_done(n.link, r, n.hash, result)  # type: ignore[arg-type]
        if any(not r.ok and not r.permanent for _, _, r in outcomes):
            result.retry.append(position.get(id(h.item.record), 0))
            return
        result.audit(self.run, h.item, **h.audit)
        for n, op, r in outcomes:
            field_name = n.record.source_id.split("#overflow:", 1)[1].split("#", 1)[0]
            if not op:
                continue    # the destination already holds this text
            if r.ok:
                result.audit(self.run, h.item, op, destination_module=module, destination_id=r.id,
                             error_code="OVERFLOW_NOTE", error_field=field_name,
                             error_message="text longer than the field, kept as a note on the same record")
                continue
            if n.link is not None and r.code != "OUTCOME_UNKNOWN":
                self._drop_intent(n.link)
            result.audit(self.run, h.item, Op.FAIL, destination_module=module, error_code=r.code or "REJECTED",
                         error_field=field_name, error_message=r.message)


_DONE = WriteResult(index=0, ok=True)


def _refused(r: WriteResult, size: int, parent_module: str, parent_id: str) -> tuple[str, dict[str, Any]]:
    if r.code == "FILE_TOO_LARGE":
        # Names the record that would hold the file: the list for external storage.
        return Op.SKIP, {"destination_module": parent_module, "destination_id": parent_id, "error_code": r.code,
                         "error_message": f"skipped: too large for the destination ({size} bytes); listed for "
                                          "external storage"}
    return Op.FAIL, {"destination_module": ATTACHMENTS, "error_code": r.code or "REJECTED", "error_field": r.field,
                     "error_message": r.message}


def _replaced(data: Mapping[str, Any], found: Sequence[tuple[str, re.Match[str]]], texts: Sequence[str]
              ) -> dict[str, Any]:
    """The record's data with each inline image (in order of `found`) replaced by its text."""
    out = dict(data)
    by_field: dict[str, list[tuple[re.Match[str], str]]] = {}
    for (name, m), text in zip(found, texts, strict=True):
        by_field.setdefault(name, []).append((m, text))
    for name, pairs in by_field.items():
        value = str(out[name])
        for m, text in reversed(pairs):
            value = value[:m.start()] + text + value[m.end():]
        out[name] = value
    return out
