"""The generator's fixed-size "seen before?" filter never forgets a key and rarely claims an unseen one."""

import random

import pytest

from connectors.sources.generate.seen import KEY_BYTES, SeenFilter


def test_every_added_key_is_seen_and_few_new_keys_are_claimed() -> None:
    rng = random.Random(3)
    seen = SeenFilter()
    added = [rng.randbytes(KEY_BYTES) for _ in range(20000)]
    for key in added:
        seen.add(key)
    assert all(key in seen for key in added)
    claimed = sum(rng.randbytes(KEY_BYTES) in seen for _ in range(20000))
    assert claimed <= 2


def test_a_small_filter_still_never_forgets() -> None:
    rng = random.Random(4)
    seen = SeenFilter(bits=1 << 10)
    added = [rng.randbytes(KEY_BYTES) for _ in range(500)]
    for key in added:
        seen.add(key)
    assert all(key in seen for key in added)


def test_keys_and_sizes_of_the_wrong_shape_are_refused() -> None:
    with pytest.raises(ValueError, match="power of two"):
        SeenFilter(bits=1000)
    with pytest.raises(ValueError, match="bytes"):
        SeenFilter().add(b"short")
