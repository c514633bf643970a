"""Thin test override: the same settings, a fast password hasher, a fixed encryption key."""

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
FIELD_ENCRYPTION_KEY = FIELD_ENCRYPTION_KEY or "v_QC3b_rj7PVpJyPhRX2T4-NlQL2nnu1sR1b4R79uVg="  # noqa: F405
