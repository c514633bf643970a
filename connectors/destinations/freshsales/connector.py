"""FreshsalesConnector: the DestinationConnector for Freshsales (Freshworks CRM).

Every request goes through the shared hourly Budget; per-record problems come back as WriteResults and never
stop a batch, while a spent hour raises BudgetExhausted (subclass `BatchInterrupted`, carrying the results of the
records already written) so that the engine pauses instead of failing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO, Self

import httpx
from pydantic import ValidationError

from connectors.base import (
    BudgetExhausted,
    ConnectorError,
    DestField,
    DestModule,
    DestRecord,
    DestUser,
    FieldSpec,
    ModuleSpec,
    PermanentError,
    TemporaryError,
    WriteResult,
)
from connectors.budget import Budget, BudgetLimits
from connectors.destinations.freshsales.client import AUTH_CODES, FreshsalesClient, classify
from connectors.destinations.freshsales.listing import PAGE_SIZE, pages
from connectors.destinations.freshsales.notes import split_note
from connectors.destinations.freshsales.schemas import (
    FieldMeta,
    FieldsResponse,
    FreshsalesConfig,
    FreshsalesSecrets,
    OwnersResponse,
    Record,
    SelectorItem,
)
from connectors.destinations.freshsales.wire import (
    CHOICE_SELECTORS,
    STATIC_FIELDS,
    Resolver,
    dest_modules,
    flatten,
    module_info,
    to_dest_field,
)

BULK_BATCH = 100   # reference/freshsales.md, "Resources": practical bulk_upsert batch 100
# Reading more ids than this goes through the list (filters + first page = 2 requests before it pays off).
LIST_READ_FROM = 2


class BatchInterrupted(BudgetExhausted):
    """BudgetExhausted raised in the middle of a batch. `results` holds the WriteResults of the records handled
    before the pause (a prefix of the batch, in input order): record them, then resume from `len(results)`."""

    def __init__(self, cause: BudgetExhausted, results: list[WriteResult]) -> None:
        super().__init__(cause.message, resume_at=cause.resume_at, retry_after=cause.retry_after)
        self.results = results


def _failure(index: int, exc: ConnectorError) -> WriteResult:
    return WriteResult(index=index, ok=False, code=exc.code, field=exc.field, message=exc.message,
                       permanent=not isinstance(exc, TemporaryError))


def _record(response: httpx.Response, singular: str) -> Record:
    try:
        return Record.model_validate(response.json()[singular])
    except (KeyError, ValueError, ValidationError, TypeError):
        raise TemporaryError(f"unexpected Freshsales response without {singular}", code="BAD_RESPONSE") from None


class FreshsalesConnector:
    """One connection to one Freshsales account; one instance per worker thread.

    Notes longer than `note_split_bytes` are written as numbered parts: the WriteResult carries the first part's
    id, and `last_note_parts[index]` lists every part's id (first first) for the records of the last `insert`
    call that were split; record them all, so that a rollback deletes every part."""

    slug = "freshsales"

    def __init__(
        self,
        config: FreshsalesConfig,
        api_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.budget = Budget(
            config.resolved_budget_key,
            BudgetLimits(concurrency=config.concurrency, allowance=config.allowance, window_seconds=3600,
                         reserve=config.reserve_requests),
            redis_url=config.redis_url, clock=clock,
        )
        self.client = FreshsalesClient(config, api_key, self.budget, transport=transport, sleep=sleep, clock=clock)
        self._sleep = sleep
        self._fields: dict[str, list[FieldMeta]] = {}
        self._selectors: dict[str, dict[str, int]] = {}
        # Split notes: input index (of the last insert call) -> the ids of all parts, first part first.
        self.last_note_parts: dict[int, tuple[str, ...]] = {}

    @classmethod
    def from_connection(cls, config: Mapping[str, Any], secrets: Mapping[str, str]) -> Self:
        problems: list[str] = []
        parsed: FreshsalesConfig | None = None
        secret: FreshsalesSecrets | None = None
        try:
            parsed = FreshsalesConfig.model_validate(dict(config))
        except ValidationError as exc:
            problems += [".".join(str(p) for p in err["loc"]) for err in exc.errors()]
        try:
            secret = FreshsalesSecrets.model_validate(dict(secrets))
        except ValidationError as exc:
            problems += [".".join(str(p) for p in err["loc"]) for err in exc.errors()]
        if parsed is None or secret is None:
            # Names the settings at fault, never their values (a secret may be among them).
            raise PermanentError(f"Freshsales connection settings are invalid: {', '.join(problems)}",
                                 code="CONFIG")
        return cls(parsed, secret.api_key.get_secret_value())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------------ metadata

    def modules(self) -> list[DestModule]:
        return dest_modules()

    def _field_meta(self, module: str) -> list[FieldMeta]:
        info = module_info(module)
        if module not in self._fields:
            if info.fields_endpoint:
                response = self.client.request("GET", f"settings/{info.path}/fields", idempotent=True)
                self._fields[module] = FieldsResponse.model_validate_json(response.content).fields
            else:
                self._fields[module] = list(STATIC_FIELDS.get(module, []))
        return self._fields[module]

    def fields(self, module: str) -> list[DestField]:
        return [to_dest_field(module, meta) for meta in self._field_meta(module)]

    def users(self) -> list[DestUser]:
        response = self.client.request("GET", "selector/owners", idempotent=True)
        owners = OwnersResponse.model_validate_json(response.content).users
        return [DestUser(id=str(o.id), email=o.email, name=o.display_name, active=o.is_active) for o in owners]

    def selector(self, name: str) -> dict[str, int]:
        """A selector's choices as lower-cased text -> id (cached per connector)."""
        if name not in self._selectors:
            if name == "owners":
                self._selectors[name] = {u.email.lower(): int(u.id) for u in self.users()}
            else:
                response = self.client.request("GET", f"selector/{name}", idempotent=True)
                items = [SelectorItem.model_validate(item) for item in response.json().get(name, [])]
                self._selectors[name] = {item.name.lower(): item.id for item in items}
        return self._selectors[name]

    def _resolver(self, module: str, record_keys: set[str]) -> Resolver:
        metas = {m.name: m for m in self._field_meta(module)}
        choices: dict[str, dict[str, int]] = {}
        for field_name, selector in CHOICE_SELECTORS.items():
            if field_name not in record_keys and field_name.removesuffix("_id") not in record_keys:
                continue
            meta = metas.get(field_name)
            if meta is not None and meta.choices:
                choices[field_name] = {c.value.lower(): c.id for c in meta.choices}
            else:
                choices[field_name] = self.selector(selector)
        return Resolver(module=module, fields=metas, choices=choices)

    def stored_form(self, module: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """A flat payload as `get` reads it back (choices as ids, emails and accounts in Freshsales' shape), so
        what was sent can be compared with what the CRM holds. Raises PermanentError as a write would."""
        body = self._resolver(module, set(record)).body(record, creating=False)
        data = {k: v for k, v in body.items() if k != "custom_field"}
        data.update(body.get("custom_field") or {})
        return data

    def create_field(self, spec: FieldSpec) -> DestField:
        raise PermanentError(
            f"Freshsales has no API to create fields: the schema checklist asks the customer's admin to create "
            f"'{spec.label}' ({spec.type}) on {spec.module} under Admin Settings", code="NO_FIELD_API")

    def create_module(self, spec: ModuleSpec) -> DestModule:
        raise PermanentError(
            f"Freshsales has no API to create modules: '{spec.plural_label}' is built by the customer's admin",
            code="NO_MODULE_API")

    def batch_size(self, module: str) -> int:
        return BULK_BATCH

    def bulk_rows(self, module: str, n_records: int) -> int:
        """Never larger jobs: `upsert` already runs as bulk jobs of 100, the most Freshsales takes in one."""
        return 0

    def cost(self, operation: str, n_records: int) -> int:
        """Requests (the hourly budget's unit). A bulk upsert costs its submission plus at least one poll."""
        if n_records <= 0:
            return 0
        if operation in ("upsert", "bulk_upsert") and n_records > 1:
            return -(-n_records // BULK_BATCH) * 2
        if operation in ("iter_records", "list"):
            return -(-n_records // PAGE_SIZE) + 1
        if operation in ("count", "fields", "users", "modules"):
            return 1
        return n_records

    # ------------------------------------------------------------------ writes

    def _each(
        self, records: Sequence[Any], one: Callable[[int, Any], WriteResult]
    ) -> list[WriteResult]:
        results: list[WriteResult] = []
        for index, record in enumerate(records):
            try:
                results.append(one(index, record))
            except BudgetExhausted as exc:
                raise BatchInterrupted(exc, results) from exc
            except ConnectorError as exc:
                if exc.code in AUTH_CODES:
                    raise
                results.append(_failure(index, exc))
        return results

    def insert(self, module: str, records: Sequence[Mapping[str, Any]]) -> list[WriteResult]:
        info = module_info(module)
        self.last_note_parts = {}
        if module == "documents":
            raise PermanentError("documents are written with attach()", code="USE_ATTACH")

        def one(index: int, record: Mapping[str, Any]) -> WriteResult:
            body = self._resolver(module, set(record)).body(record, creating=True)
            products = body.pop("products", None)
            if module == "notes":
                return self._insert_note(index, body)
            response = self.client.request("POST", info.path, json={info.singular: body}, idempotent=False)
            created = _record(response, info.singular)
            if products is not None and module == "deals":
                self._put_products(created.id, products)
            return WriteResult(index=index, ok=True, id=str(created.id), action="insert",
                               modified_at=created.updated_at)

        return self._each(records, one)

    def _put_products(self, deal_id: int, products: Any) -> None:
        # reference/freshsales.md, "Deals": products go through PUT /deals/{id}?include=products.
        self.client.request("PUT", f"deals/{deal_id}", params={"include": "products"},
                            json={"deal": {"products": products}}, idempotent=True)

    def _insert_note(self, index: int, body: dict[str, Any]) -> WriteResult:
        parts = split_note(str(body.get("description") or ""), self.config.note_split_bytes)
        ids: list[str] = []
        try:
            for description in parts:
                response = self.client.request("POST", "notes", json={"note": {**body, "description": description}},
                                               idempotent=False)
                ids.append(str(_record(response, "note").id))
        except ConnectorError:
            self._discard_notes(ids)
            raise
        if len(ids) > 1:
            self.last_note_parts[index] = tuple(ids)
        return WriteResult(index=index, ok=True, id=ids[0], action="insert",
                           message=f"split into {len(ids)} notes" if len(ids) > 1 else "")

    def _discard_notes(self, ids: Sequence[str]) -> None:
        """A split note that could not be written whole is not left half-written (best effort)."""
        for note_id in ids:
            try:
                self.client.request("DELETE", f"notes/{note_id}", idempotent=True)
            except ConnectorError:
                continue

    def update(self, module: str, records: Sequence[Mapping[str, Any]]) -> list[WriteResult]:
        info = module_info(module)

        def one(index: int, record: Mapping[str, Any]) -> WriteResult:
            if not record.get("id"):
                raise PermanentError("update needs the record's Freshsales id", code="MISSING_ID", field="id")
            body = self._resolver(module, set(record)).body(record, creating=False)
            params = {"include": "products"} if module == "deals" and "products" in body else None
            response = self.client.request("PUT", f"{info.path}/{record['id']}", params=params,
                                           json={info.singular: body}, idempotent=True)
            updated = _record(response, info.singular)
            return WriteResult(index=index, ok=True, id=str(updated.id), action="update",
                               modified_at=updated.updated_at)

        return self._each(records, one)

    def upsert(self, module: str, records: Sequence[Mapping[str, Any]], *, key_field: str) -> list[WriteResult]:
        """Contacts and accounts only (reference, "Resources"); one record -> `/upsert`, more -> bulk jobs."""
        info = module_info(module)
        if not info.bulk:
            raise PermanentError(f"Freshsales has no upsert for {module}: insert, then update by id",
                                 code="NO_UPSERT")
        if len(records) > 1:
            return self.bulk_upsert(module, records, key_field=key_field)

        def one(index: int, record: Mapping[str, Any]) -> WriteResult:
            body = self._resolver(module, set(record)).body(record, creating=True)
            key_value = self._key_value(record, key_field)
            response = self.client.request(
                "POST", f"{info.path}/upsert", idempotent=True,
                json={"unique_identifier": {key_field: key_value}, info.singular: body})
            saved = _record(response, info.singular)
            # reference: upsert answers 201 when it created the record, 200 when it updated one.
            return WriteResult(index=index, ok=True, id=str(saved.id),
                               action="insert" if response.status_code == 201 else "update",
                               modified_at=saved.updated_at)

        return self._each(records, one)

    @staticmethod
    def _key_value(record: Mapping[str, Any], key_field: str) -> Any:
        value = record.get(key_field)
        if key_field == "emails":
            value = value or record.get("email")
            if isinstance(value, list | tuple):
                value = value[0] if value else None
            if isinstance(value, dict):
                value = value.get("value")
        if value in (None, ""):
            raise PermanentError(f"field {key_field}: the upsert key is empty", code="MISSING_KEY", field=key_field)
        return value

    def bulk_upsert(
        self, module: str, records: Sequence[Mapping[str, Any]], *, key_field: str
    ) -> list[WriteResult]:
        """Asynchronous bulk upsert: batches of 100 submitted as jobs, each polled to completion."""
        info = module_info(module)
        if not info.bulk:
            raise PermanentError(f"Freshsales has no bulk upsert for {module}", code="NO_UPSERT")
        results: list[WriteResult] = []
        for start in range(0, len(records), BULK_BATCH):
            try:
                results += self._bulk_chunk(module, records[start:start + BULK_BATCH], start, key_field)
            except BudgetExhausted as exc:
                raise BatchInterrupted(exc, results) from exc
        return results

    def _bulk_chunk(
        self, module: str, chunk: Sequence[Mapping[str, Any]], offset: int, key_field: str
    ) -> list[WriteResult]:
        info = module_info(module)
        resolver = self._resolver(module, set().union(*(set(r) for r in chunk)))
        by_index: dict[int, WriteResult] = {}
        items: list[dict[str, Any]] = []
        sent: list[int] = []  # job position -> input index
        for position, record in enumerate(chunk):
            index = offset + position
            try:
                items.append({key_field: self._key_value(record, key_field),
                              "data": resolver.body(record, creating=True)})
                sent.append(index)
            except PermanentError as exc:
                by_index[index] = _failure(index, exc)
        if items:
            try:
                job = self.client.run_bulk_job(info.path, {info.path: items})
                for result in job.job_status.results:
                    index = sent[result.index]
                    if result.status == "failed":
                        status = str(result.errors.code) if result.errors else ""
                        message = result.errors.text() if result.errors else ""
                        by_index[index] = WriteResult(
                            index=index, ok=False, code=classify(status, message), message=message,
                            permanent=not (status == "429" or status.startswith("5")))
                    else:
                        by_index[index] = WriteResult(index=index, ok=True, id=str(result.id),
                                                      action="insert" if result.status == "created" else "update")
            except BudgetExhausted:
                raise
            except ConnectorError as exc:
                if exc.code in AUTH_CODES:
                    raise
                for index in sent:
                    by_index[index] = _failure(index, exc)
        for index in sent:  # a job that forgot a record must not lose it silently
            by_index.setdefault(index, WriteResult(index=index, ok=False, code="NO_RESULT", permanent=False,
                                                   message="the bulk job reported nothing for this record"))
        return [by_index[i] for i in sorted(by_index)]

    def delete(self, module: str, ids: Sequence[str]) -> list[WriteResult]:
        """Hard delete (`/forget` where a recycle bin exists) so a rollback leaves nothing behind. A record that
        is already gone counts as deleted, so a rollback can be re-run."""
        info = module_info(module)

        def one(index: int, record_id: str) -> WriteResult:
            path = f"{info.path}/{record_id}/forget" if info.forget else f"{info.path}/{record_id}"
            try:
                self.client.request("DELETE", path, idempotent=True)
            except PermanentError as exc:
                if exc.code != "404":
                    raise
                return WriteResult(index=index, ok=True, id=str(record_id), action="delete", code="NOT_FOUND")
            return WriteResult(index=index, ok=True, id=str(record_id), action="delete")

        return self._each(ids, one)

    def soft_delete(self, module: str, ids: Sequence[str]) -> list[str]:
        """Move records to the recycle bin with `bulk_destroy` (not used by rollback). Answers the deleted ids."""
        info = module_info(module)
        deleted: list[str] = []
        for start in range(0, len(ids), BULK_BATCH):
            chunk = [int(i) for i in ids[start:start + BULK_BATCH]]
            response = self.client.request("POST", f"{info.path}/bulk_destroy", json={"selected_ids": chunk},
                                           idempotent=True)
            deleted += [str(i) for i in response.json().get("deleted_ids", chunk)]
        return deleted

    def attach(
        self, module: str, record_id: str, *, file_name: str, stream: BinaryIO, size: int, content_type: str
    ) -> WriteResult:
        info = module_info(module)
        if size > self.config.max_file_bytes:
            return WriteResult(index=0, ok=False, code="FILE_TOO_LARGE", field="file",
                               message=f"file of {size} bytes exceeds Freshsales' {self.config.max_file_bytes}")
        form = {"file_name": file_name, "is_shared": "false", "targetable_id": str(record_id),
                "targetable_type": info.targetable_type}
        try:
            response = self.client.request("POST", "documents", files={"file": (file_name, stream, content_type)},
                                           data=form, idempotent=False)
            document = _record(response, "document")
        except BudgetExhausted:
            raise
        except ConnectorError as exc:
            if exc.code in AUTH_CODES:
                raise
            return _failure(0, exc)
        return WriteResult(index=0, ok=True, id=str(document.id), action="insert", modified_at=document.updated_at)

    def list_attachments(self, module: str, record_id: str) -> list[DestRecord]:
        """The files on one record, as DestRecords whose data holds `file_name` and `size` (bytes): how a loader
        interrupted between an upload and its bookkeeping finds what it uploaded. Read as the record's side-loaded
        `documents` (`GET /contacts/{id}?include=documents`; the include name is unconfirmed, reference/freshsales.md
        documents no file listing)."""
        info = module_info(module)
        response = self.client.request("GET", f"{info.path}/{record_id}", params={"include": "documents"},
                                       idempotent=True)
        try:
            documents = [Record.model_validate(d) for d in response.json().get("documents") or []]
        except (ValueError, ValidationError, AttributeError):
            raise TemporaryError("unexpected Freshsales response without documents", code="BAD_RESPONSE") from None
        out = []
        for d in documents:
            extra = d.model_extra or {}
            size = extra.get("size")
            out.append(DestRecord(id=str(d.id), data={"file_name": str(extra.get("file_name") or ""),
                                                      "size": int(size) if isinstance(size, int) else -1},
                                  modified_at=d.updated_at))
        return out

    # ------------------------------------------------------------------ reads

    def get(self, module: str, ids: Sequence[str]) -> list[DestRecord]:
        """The records of `ids` that exist, in that order. Freshsales reads one record per GET and has no read
        by a list of ids (reference/freshsales.md, "Lists"): many ids are read from the module's list, 100 a
        request, as long as the pages left are fewer than the ids left; the rest one GET each. Deals are read
        one by one because only `GET /deals/{id}?include=products` carries their products."""
        info = module_info(module)
        wanted = list(dict.fromkeys(str(i) for i in ids))
        found: dict[str, DestRecord] = {}
        complete = False
        if len(wanted) > LIST_READ_FROM and info.listing in ("view", "page") and module != "deals":
            found, complete = self._get_listed(module, set(wanted))
        params = {"include": "products"} if module == "deals" else None
        for record_id in [] if complete else [i for i in wanted if i not in found]:
            try:
                response = self.client.request("GET", f"{info.path}/{record_id}", params=params, idempotent=True)
            except PermanentError as exc:
                if exc.code == "404":
                    continue
                raise
            record = _record(response, info.singular)
            found[record_id] = DestRecord(id=str(record.id), data=flatten(record.model_dump()),
                                          modified_at=record.updated_at)
        return [found[i] for i in wanted if i in found]

    def _get_listed(self, module: str, wanted: set[str]) -> tuple[dict[str, DestRecord], bool]:
        """Wanted records met while paging the module's list; True when the list was read to its end (so the ids
        not met do not exist), False when reading the rest one by one became cheaper."""
        found: dict[str, DestRecord] = {}
        for read, (records, meta) in enumerate(pages(self.client, module), start=1):
            for record in records:
                if str(record.id) in wanted:
                    found[str(record.id)] = DestRecord(id=str(record.id), data=flatten(record.model_dump()),
                                                       modified_at=record.updated_at)
            if len(found) == len(wanted):
                return found, True
            if meta.total_pages - read > len(wanted) - len(found):
                return found, False
        return found, True

    def iter_records(self, module: str, fields: Sequence[str]) -> Iterator[DestRecord]:
        wanted = set(fields)
        for records, _meta in pages(self.client, module):
            for record in records:
                data = flatten(record.model_dump())
                if wanted:
                    data = {k: v for k, v in data.items() if k in wanted or k == "id"}
                yield DestRecord(id=str(record.id), data=data, modified_at=record.updated_at)

    def count(self, module: str) -> int:
        for _records, meta in pages(self.client, module, per_page=1):
            return meta.total
        return 0
