"""Pydantic models for the Freshsales connection settings and every response body the connector reads.

Models are lenient about extra keys (the vendor adds fields over time) and strict about the ones we rely on."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

# reference/freshsales.md, "Limits": requests per account per hour, by plan. Editable data.
PLAN_REQUESTS_PER_HOUR: dict[str, int] = {"free": 1000, "growth": 1000, "pro": 2000, "enterprise": 5000}
MAX_FILE_BYTES = 150 * 1024 * 1024  # reference, "Limits": 150 MB a file


class FreshsalesConfig(BaseModel):
    """Non-secret settings of one Freshsales connection."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bundle_url: str                                   # full alias base, e.g. https://acme.myfreshworks.com/crm/sales/api/
    plan: Literal["free", "growth", "pro", "enterprise"] = "growth"
    requests_per_hour: int | None = Field(default=None, ge=1)   # overrides the plan's number
    reserve_requests: int = Field(default=0, ge=0)   # kept back for the clinic's other integrations
    concurrency: int = Field(default=8, ge=1)
    redis_url: str | None = None
    budget_key: str = ""                              # default: "freshsales:<bundle host>"
    note_split_bytes: int = Field(default=32 * 1024, ge=256)
    max_file_bytes: int = Field(default=MAX_FILE_BYTES, ge=1)
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0)
    write_timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=4, ge=0)
    retry_base_seconds: float = Field(default=0.5, ge=0)
    max_retry_wait: float = Field(default=60.0, ge=0)  # a Retry-After longer than this pauses the run instead
    job_poll_seconds: float = Field(default=0.5, ge=0)
    job_timeout_seconds: float = Field(default=600.0, gt=0)

    @field_validator("bundle_url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("bundle_url must be an http(s) URL such as https://acme.myfreshworks.com/crm/sales/api/")
        return value if value.endswith("/") else value + "/"

    @property
    def allowance(self) -> int:
        return self.requests_per_hour or PLAN_REQUESTS_PER_HOUR[self.plan]

    @property
    def resolved_budget_key(self) -> str:
        return self.budget_key or f"freshsales:{urlsplit(self.bundle_url).netloc}"


class FreshsalesSecrets(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    api_key: SecretStr


# ------------------------------------------------------------------------------------------- responses


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorDetail(_Lenient):
    code: int | str = 0
    message: list[str] | str = Field(default_factory=list)

    def text(self) -> str:
        return "; ".join(self.message) if isinstance(self.message, list) else self.message


class ErrorBody(_Lenient):
    """reference/freshsales.md, "Errors": `{"errors":{"code":400,"message":["…"]}}` (message is a list)."""

    errors: ErrorDetail


class FieldChoice(_Lenient):
    id: int
    value: str


class FieldMeta(_Lenient):
    id: int | None = None
    name: str
    label: str = ""
    type: str = "text"
    required: bool = False
    choices: list[FieldChoice] = Field(default_factory=list)


class FieldsResponse(_Lenient):
    fields: list[FieldMeta]


class Owner(_Lenient):
    id: int
    display_name: str = ""
    email: str = ""
    is_active: bool = True


class OwnersResponse(_Lenient):
    users: list[Owner]


class SelectorItem(_Lenient):
    id: int
    name: str = ""


class Record(_Lenient):
    """Any Freshsales record: its id, updated_at and custom fields; every other key kept as given."""

    id: int
    updated_at: datetime | None = None
    custom_field: dict[str, Any] = Field(default_factory=dict)


class JobAccepted(_Lenient):
    job_id: int | None = None
    job_status_url: str


class JobResult(_Lenient):
    index: int
    status: Literal["created", "updated", "failed"]
    id: int | None = None
    errors: ErrorDetail | None = None


class JobStatus(_Lenient):
    id: int
    status: str
    results: list[JobResult] = Field(default_factory=list)


class JobStatusResponse(_Lenient):
    job_status: JobStatus


class Filter(_Lenient):
    id: int
    name: str = ""
    is_default: bool = False


class FiltersResponse(_Lenient):
    filters: list[Filter]


class ListMeta(_Lenient):
    total_pages: int = 1
    total: int = 0
