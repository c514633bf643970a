"""Everything that crosses the Zoho boundary, as pydantic models: the connection config, the editions table, and
the API's answers (reference/zoho-crm-v8.md). Unknown keys are allowed: Zoho adds fields often."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Edition = Literal["free", "standard", "professional", "enterprise", "ultimate"]


def parse_time(value: Any) -> datetime | None:
    """A Zoho date-time (ISO 8601 with offset); None for an empty or unreadable value."""
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


class ZohoConfig(BaseModel):
    """Non-secret settings of one Zoho CRM connection."""

    model_config = ConfigDict(extra="forbid")

    api_base: str = "https://www.zohoapis.com"
    accounts_url: str = "https://accounts.zoho.com"
    content_url: str = ""               # file uploads (Bulk Write); defaults to api_base
    edition: Edition = "enterprise"
    users: int = Field(default=1, ge=1)
    addon_credits: int = Field(default=0, ge=0)
    reserve_credits: int = Field(default=0, ge=0)
    concurrency: int | None = Field(default=None, ge=1)   # default: the edition's, capped by sub-concurrency
    redis_url: str | None = None
    budget_key: str = ""                # default: derived from the client id
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    max_retries: int = Field(default=6, ge=0)
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    bulk_poll_interval: float = 1.0
    bulk_timeout: float = 1800.0

    @field_validator("api_base", "accounts_url", "content_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")


class ZohoSecrets(BaseModel):
    model_config = ConfigDict(extra="ignore")

    client_id: str
    client_secret: str
    refresh_token: str


class EditionLimits(BaseModel):
    credits_base: int
    credits_per_user: int
    credits_cap: int | None
    concurrency: int
    attachment_mb: int


class Costs(BaseModel):
    call: int
    records_per_credit: int
    bulk_job: int


class Limits(BaseModel):
    editions: dict[str, EditionLimits]
    sub_concurrency: int
    costs: Costs
    batch_limit: int
    bulk_rows_max: int
    bulk_modules: list[str]
    credit_window_seconds: int
    tokens_per_window: int
    token_window_seconds: int

    def allowance(self, edition: str, users: int, addon: int) -> int:
        row = self.editions[edition]
        total = row.credits_base + row.credits_per_user * users
        return (min(total, row.credits_cap) if row.credits_cap is not None else total) + addon


def load_limits(path: Path | None = None) -> Limits:
    path = path or Path(__file__).with_name("editions.json")
    return Limits.model_validate(json.loads(path.read_text()))


# --------------------------------------------------------------------------------------------------- answers


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class TokenAnswer(_Open):
    access_token: str = ""
    expires_in: int = 3600
    api_domain: str = ""
    error: str = ""


class ApiError(_Open):
    code: str = ""
    message: str = ""
    status: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


class RecordResult(_Open):
    code: str = ""
    message: str = ""
    status: str = ""
    details: dict[str, Any] = Field(default_factory=dict)
    action: str | None = None
    duplicate_field: str | None = None


class WriteAnswer(_Open):
    data: list[RecordResult]


class ListInfo(_Open):
    per_page: int = 0
    count: int = 0
    page: int = 1
    more_records: bool = False
    next_page_token: str | None = None


class RecordsAnswer(_Open):
    data: list[dict[str, Any]] = Field(default_factory=list)
    info: ListInfo = Field(default_factory=ListInfo)


class CountAnswer(_Open):
    count: int


class LookupInfo(_Open):
    module: dict[str, Any] | None = None


class PickValue(_Open):
    actual_value: str = ""
    display_value: str = ""


class FieldMeta(_Open):
    api_name: str
    field_label: str = ""
    display_label: str = ""
    data_type: str
    length: int | None = None
    system_mandatory: bool = False
    read_only: bool = False
    custom_field: bool = False
    unique: dict[str, Any] | None = None
    pick_list_values: list[PickValue] = Field(default_factory=list)
    lookup: LookupInfo | None = None
    id: str = ""


class FieldsAnswer(_Open):
    fields: list[FieldMeta]


class ModuleMeta(_Open):
    api_name: str
    id: str = ""
    plural_label: str = ""
    singular_label: str = ""
    generated_type: str = "default"
    creatable: bool = True
    api_supported: bool = True


class ModulesAnswer(_Open):
    modules: list[ModuleMeta]


class UserMeta(_Open):
    id: str
    email: str = ""
    full_name: str = ""
    status: str = "active"


class UsersAnswer(_Open):
    users: list[UserMeta] = Field(default_factory=list)
    info: ListInfo = Field(default_factory=ListInfo)


class OrgMeta(_Open):
    id: str
    zgid: str
    company_name: str = ""


class OrgAnswer(_Open):
    org: list[OrgMeta]


class ActionResult(_Open):
    code: str = ""
    status: str = ""
    message: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


class UploadAnswer(_Open):
    status: str
    code: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


class BulkFile(_Open):
    status: str = ""
    added_count: int = 0
    skipped_count: int = 0
    updated_count: int = 0
    total_count: int = 0


class BulkResource(_Open):
    status: str = ""
    file: BulkFile | None = None


class BulkResult(_Open):
    download_url: str


class BulkJob(_Open):
    id: str
    status: str
    operation: str = ""
    resource: list[BulkResource] = Field(default_factory=list)
    result: BulkResult | None = None
