"""HTTP client of the Dr.DENTES REST API: bearer token, page/per_page pagination, `updated_since`, file bytes.
Every response is parsed through the pydantic models of api.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx

from connectors.base import PermanentError, TemporaryError
from connectors.sources.drdentes.api import API_PREFIX, MAX_PER_PAGE, ErrorBody, Page

TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class DrDentesClient:
    def __init__(self, base_url: str, access_token: str, *, transport: httpx.BaseTransport | None = None,
                 timeout: httpx.Timeout = TIMEOUT) -> None:
        self.http = httpx.Client(base_url=base_url.rstrip("/") + API_PREFIX, timeout=timeout, transport=transport,
                                 headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"})

    def close(self) -> None:
        self.http.close()

    def _check(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        try:
            detail = ErrorBody.model_validate_json(response.content).error
            code, message = detail.code or str(response.status_code), detail.message
        except ValueError:
            code, message = str(response.status_code), response.reason_phrase
        text = f"Dr.DENTES API {response.request.method} {response.request.url.path}: {response.status_code} {code}"
        if response.status_code == 429 or response.status_code >= 500:
            retry = response.headers.get("Retry-After")
            raise TemporaryError(text, code=code, retry_after=float(retry) if retry and retry.isdigit() else None)
        raise PermanentError(f"{text} ({message})" if message else text, code=code)

    def get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        try:
            response = self.http.get(path, params=params)
        except httpx.TimeoutException as exc:
            raise TemporaryError(f"Dr.DENTES API {path}: timeout", code="TIMEOUT") from exc
        except httpx.TransportError as exc:
            raise TemporaryError(f"Dr.DENTES API {path}: {type(exc).__name__}", code="NETWORK") from exc
        self._check(response)
        return response

    def page(self, resource: str, page: int, *, per_page: int = MAX_PER_PAGE,
             updated_since: datetime | None = None) -> Page:
        params: dict[str, Any] = {"page": page, "per_page": per_page}
        if updated_since is not None:
            params["updated_since"] = updated_since.isoformat()
        return Page.model_validate_json(self.get(f"/{resource}", params).content)

    def pages(self, resource: str, *, start: int = 1, updated_since: datetime | None = None) -> Iterator[Page]:
        number: int | None = start
        while number is not None:
            page = self.page(resource, number, updated_since=updated_since)
            yield page
            number = page.meta.next_page

    def stream_file(self, file_id: str) -> Iterator[bytes]:
        with self.http.stream("GET", f"/files/{file_id}/content") as response:
            if not response.is_success:
                response.read()
                self._check(response)
            yield from response.iter_bytes(1 << 16)
