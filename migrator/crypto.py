"""Encryption of connection secrets at rest (Fernet: AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def encryption_key_problem() -> str:
    """Empty when a usable key is configured (or DEBUG allows the derived development key)."""
    key = settings.FIELD_ENCRYPTION_KEY
    if not key:
        return "" if settings.DEBUG else "FIELD_ENCRYPTION_KEY is not set and DEBUG is off."
    try:
        Fernet(key.encode())
    except (ValueError, TypeError):
        return "FIELD_ENCRYPTION_KEY is not a valid Fernet key (urlsafe base64 of 32 bytes)."
    return ""


@lru_cache(maxsize=4)
def _fernet(key: str, secret_key: str) -> Fernet:
    if key:
        return Fernet(key.encode())
    # Development only (DEBUG): a key derived from SECRET_KEY, so a laptop demo needs no set-up.
    derived = hashlib.sha256(b"field-encryption:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def fernet() -> Fernet:
    return _fernet(settings.FIELD_ENCRYPTION_KEY, settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("a stored secret cannot be decrypted with the configured FIELD_ENCRYPTION_KEY") from None
