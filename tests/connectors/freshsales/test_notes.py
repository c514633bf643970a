"""Long notes split into numbered parts whose bodies concatenate to the original."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from connectors.base import TemporaryError
from connectors.destinations.freshsales.connector import FreshsalesConnector
from connectors.destinations.freshsales.notes import join_note_parts, split_note


def test_a_short_note_is_left_alone() -> None:
    assert split_note("Kontrol randevusu", 32 * 1024) == ["Kontrol randevusu"]


@pytest.mark.parametrize("limit", [300, 1024, 32 * 1024])
def test_split_parts_fit_the_limit_are_numbered_and_join_back_exactly(limit: int) -> None:
    rng = random.Random(4)
    text = "".join(rng.choice("diş çürüğü tedavisi\n ıİğĞ😀") for _ in range(41_000))
    parts = split_note(text, limit)
    assert len(parts) > 1
    assert all(len(p.encode("utf-8")) <= limit for p in parts)
    assert [p.split(" ", 1)[0] for p in parts[:2]] == [f"(1/{len(parts)})", f"(2/{len(parts)})"]
    assert join_note_parts(parts) == text


def test_a_threshold_with_no_room_for_text_is_refused() -> None:
    with pytest.raises(ValueError, match="no room"):
        split_note("x" * 100, 8)


@pytest.mark.e2e
def test_a_40kb_note_arrives_as_two_notes_whose_concatenation_is_the_original(
    connector: FreshsalesConnector, api: httpx.Client
) -> None:
    [contact] = connector.insert("contacts", [{"last_name": "N"}])
    text = ("Tedavi notu: kanal tedavisi yapıldı. " * 1200)[:40 * 1024]
    short, long_ = connector.insert("notes", [
        {"description": "kısa not", "targetable_type": "Contact", "targetable_id": contact.id},
        {"description": text, "targetable_type": "contacts", "targetable_id": contact.id},
    ])
    assert short.ok and 0 not in connector.last_note_parts
    assert long_.ok and long_.message == "split into 2 notes"
    ids = connector.last_note_parts[1]
    assert len(ids) == 2 and ids[0] == long_.id
    bodies = [api.get(f"notes/{note_id}").json()["note"]["description"] for note_id in ids]
    assert bodies[0].startswith("(1/2) ") and bodies[1].startswith("(2/2) ")
    assert join_note_parts(bodies) == text


@pytest.mark.e2e
def test_a_split_note_that_fails_midway_leaves_no_half_note(
    connector: FreshsalesConnector, admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    [contact] = connector.insert("contacts", [{"last_name": "N"}])
    send = connector.client.request
    posts = []

    def second_part_fails(method: str, path: str, **kwargs: Any) -> httpx.Response:
        if (method, path) == ("POST", "notes"):
            posts.append(path)
            if len(posts) == 2:
                raise TemporaryError("POST notes: HTTP 503", code="503")
        return send(method, path, **kwargs)

    monkeypatch.setattr(connector.client, "request", second_part_fails)
    [failed] = connector.insert("notes", [{"description": "z " * 20_000, "targetable_type": "Contact",
                                           "targetable_id": contact.id}])
    assert not failed.ok and not failed.permanent and failed.code == "503"
    assert len(posts) == 2
    assert admin.get("state").json()["records"]["notes"] == []
