"""A fixed-size "seen before?" filter (a Bloom filter) for the generator's accidental-duplicate guard.

The generator must never write two different people with the same name and birth date by accident, because the
manifest counts only its deliberate duplicates. Remembering every key would grow with the patient count; this
filter does not. It never answers "no" for a key it has seen, so no accidental duplicate gets through; it
sometimes answers "yes" for a new key, which only makes the generator draw that person again. The answers depend
on the keys alone, so output stays deterministic for a given seed."""

from __future__ import annotations

BITS = 1 << 24   # 2 MB: a false "yes" about once in 200,000 draws at 200,000 patients, 1 in 50 at 2 million
HASHES = 4       # bit positions per key, each taken from 4 bytes of the key
KEY_BYTES = 4 * HASHES


class SeenFilter:
    def __init__(self, bits: int = BITS) -> None:
        if bits & (bits - 1) or bits < 8:
            raise ValueError("bits must be a power of two, at least 8")
        self._mask = bits - 1
        self._bits = bytearray(bits // 8)

    def _positions(self, key: bytes) -> list[int]:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a key is {KEY_BYTES} bytes (a uniform hash such as blake2b)")
        return [int.from_bytes(key[i:i + 4], "little") & self._mask for i in range(0, KEY_BYTES, 4)]

    def __contains__(self, key: bytes) -> bool:
        return all(self._bits[p >> 3] & (1 << (p & 7)) for p in self._positions(key))

    def add(self, key: bytes) -> None:
        for p in self._positions(key):
            self._bits[p >> 3] |= 1 << (p & 7)
