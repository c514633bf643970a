from __future__ import annotations

from functools import cached_property

from django.core.paginator import Paginator


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows (`SELECT COUNT(*) FROM (… LIMIT CAP)`), so a huge audit table pages without a
    full-table count. Past the cap the admin shows CAP+ pages' worth; filters narrow it."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return int(self.object_list[: self.CAP].count())  # type: ignore[union-attr]
