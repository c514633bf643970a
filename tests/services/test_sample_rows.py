"""The sample diff compares rows (line items, subform rows) key by key: the CRM's own keys (row ids, computed
totals) and its way of holding a lookup ({"name", "id"}) do not count as differences; a wrong product, price or
a missing line does."""

from __future__ import annotations

from migrator.services.sample import _same

SENT = [{"Product_Name": "p-2", "Quantity": 1.0, "List_Price": 40278.0},
        {"Product_Name": "p-1", "Quantity": 1.0, "List_Price": 1750.5}]
HELD = [{"id": "r-1", "Product_Name": {"name": "Crown", "id": "p-2"}, "Quantity": 1, "List_Price": 40278,
         "Total": 40278},
        {"id": "r-2", "Product_Name": {"name": "Cleaning", "id": "p-1"}, "Quantity": 1, "List_Price": "1750.50",
         "Total": 1750.5}]


def test_rows_held_as_sent_are_equal() -> None:
    assert _same(SENT, HELD)


def test_a_wrong_product_price_or_line_count_is_a_difference() -> None:
    assert not _same(SENT, [HELD[0], {**HELD[1], "Product_Name": {"name": "Crown", "id": "p-2"}}])
    assert not _same(SENT, [HELD[0], {**HELD[1], "List_Price": 1750.0}])
    assert not _same(SENT, HELD[:1])
    assert not _same(SENT, None)
