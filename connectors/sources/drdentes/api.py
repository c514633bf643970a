"""The Dr.DENTES REST API as the connector sees it: resource paths, the page envelope, and the mapping from
export tables (Turkish headers) to API keys. The simulator serves exactly these shapes.

The connector hands records on under the export's column names (`EXPORT_NAMES`), whichever way it reads: one
migration's field maps, routing rules and quality hints then hold for the API and the Excel export alike."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ConfigDict

from connectors.sources.drdentes.schema import TABLES
from connectors.sources.exports.tables import TableSpec
from connectors.sources.exports.values import Locale

API_PREFIX = "/api/v1"
MAX_PER_PAGE = 100
# The API speaks ISO 8601 with offsets and plain decimal numbers, unlike the Excel export.
API_LOCALE = Locale(date_order="YMD", tz="Europe/Istanbul")

RESOURCES: dict[str, str] = {
    "clinic": "clinics", "user": "users", "patient": "patients", "appointment": "appointments",
    "treatment": "treatments", "invoice": "invoices", "payment": "payments", "insurance": "insurances",
    "note": "notes", "file": "files", "recall": "recalls", "product": "products",
    "custom_record": "custom-records", "workflow": "workflows", "integration": "integrations",
}


class PageMeta(BaseModel):
    model_config = ConfigDict(extra="ignore")
    page: int
    per_page: int
    total: int
    next_page: int | None = None


class Page(BaseModel):
    model_config = ConfigDict(extra="ignore")
    data: list[dict[str, Any]]
    meta: PageMeta


class ApiError(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str = ""
    message: str = ""


class ErrorBody(BaseModel):
    error: ApiError


def api_key(spec: TableSpec, column_name: str) -> str:
    column = spec.column(column_name)
    return column.api if column and column.api else column_name


def api_table(spec: TableSpec) -> TableSpec:
    """The same table keyed by API names, so the value parser knows each key's type."""
    columns = tuple(replace(c, name=c.api or c.name) for c in spec.columns)
    return replace(spec, columns=columns, id_field=api_key(spec, spec.id_field),
                   owner_field=api_key(spec, spec.owner_field) if spec.owner_field else "",
                   modified_field=api_key(spec, spec.modified_field) if spec.modified_field else "",
                   file=RESOURCES[spec.object_name])


API_TABLES: dict[str, TableSpec] = {spec.object_name: api_table(spec) for spec in TABLES}
# object -> {API key: export column name}
EXPORT_NAMES: dict[str, dict[str, str]] = {
    spec.object_name: {c.api or c.name: c.name for c in spec.columns} for spec in TABLES
}
