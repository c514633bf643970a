"""Small in-test connectors that honour the protocols, for owner and discovery tests that need no simulator."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from connectors.base import (
    DestUser,
    SourceField,
    SourceIssue,
    SourceObject,
    SourceOwner,
    SourceRecord,
)


class FakeSource:
    slug = "fake-source"

    def __init__(self, owners: Sequence[SourceOwner], records: Mapping[str, Sequence[str | None]],
                 issues: int = 0) -> None:
        """`records`: object name -> the owner id of each record (None for a record with no owner)."""
        self._owners = list(owners)
        self._records = records
        self._issues = issues
        self.closed = False

    def discover(self) -> list[SourceObject]:
        objects = [
            SourceObject(name, name.title(), (SourceField("id", type="id"), SourceField("provider_id")), "id",
                         owner_field="provider_id")
            for name in self._records
        ]
        return [*objects, SourceObject("tariff", "Tariff", (SourceField("code"),), "code")]

    def count(self, object_name: str) -> int:
        return len(self._records.get(object_name, ()))

    def iter_records(self, object_name: str, *, since: datetime | None = None,
                     cursor: str | None = None) -> Iterator[SourceRecord | SourceIssue]:
        if object_name == "tariff":
            raise AssertionError("objects without an owner field must not be read for owner counts")
        for i, owner in enumerate(self._records[object_name]):
            data = {"id": str(i), "provider_id": owner}
            yield SourceRecord(object_name, str(i), data, cursor=str(i + 1))
        for i in range(self._issues):
            yield SourceIssue(object_name, "unreadable row", file=f"{object_name}.csv", line=i + 2)

    def owners(self) -> list[SourceOwner]:
        return list(self._owners)

    def attachments(self, object_name: str, source_id: str) -> list[Any]:
        return []

    def attachments_of(self, record: Any) -> list[Any]:
        return []

    def open_attachment(self, ref: Any) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        self.closed = True


class FakeDestination:
    slug = "fake-destination"

    def __init__(self, users: Sequence[DestUser]) -> None:
        self._users = list(users)
        self.closed = False

    def users(self) -> list[DestUser]:
        return list(self._users)

    def close(self) -> None:
        self.closed = True
