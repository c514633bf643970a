"""Reading lists: contacts, accounts and deals through their "All" view, others through a paged GET.

reference/freshsales.md, "Lists": `GET /<module>/filters`, then `/<module>/view/{id}?page=&per_page=` (≤100)."""

from __future__ import annotations

from collections.abc import Iterator

from connectors.base import PermanentError
from connectors.destinations.freshsales.client import FreshsalesClient
from connectors.destinations.freshsales.schemas import FiltersResponse, ListMeta, Record
from connectors.destinations.freshsales.wire import module_info

PAGE_SIZE = 100


def pages(
    client: FreshsalesClient, module: str, per_page: int = PAGE_SIZE
) -> Iterator[tuple[list[Record], ListMeta]]:
    """Pages of a module's records with the list's meta (total, total_pages); one request a page."""
    info = module_info(module)
    if info.listing == "view":
        filters = FiltersResponse.model_validate_json(
            client.request("GET", f"{info.path}/filters", idempotent=True).content).filters
        # The "All …" view lists every record (reference, "Lists").
        view = next((f for f in filters if f.name.lower().startswith("all")), None)
        if view is None:
            raise PermanentError(f"no 'All' view for {module} in Freshsales", code="NO_VIEW")
        path = f"{info.path}/view/{view.id}"
    elif info.listing == "page":
        path = info.path
    else:
        raise PermanentError(f"Freshsales has no API to list {module}; count them from the crosswalk",
                             code="NO_LIST_API")
    key = info.path.split("/")[-1]
    page = 1
    while True:
        response = client.request("GET", path, params={"page": page, "per_page": per_page}, idempotent=True)
        body = response.json()
        meta = ListMeta.model_validate(body.get("meta") or {})
        yield [Record.model_validate(item) for item in body.get(key, [])], meta
        if page >= meta.total_pages:
            return
        page += 1
