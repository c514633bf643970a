from __future__ import annotations

from django.test import override_settings

from migrator.checks import check_settings


def ids(errors):
    return {e.id for e in errors}


def test_a_missing_encryption_key_outside_debug_is_a_check_error_that_says_what_to_set():
    with override_settings(DEBUG=False, FIELD_ENCRYPTION_KEY=""):
        errors = check_settings()
    assert "migrator.E002" in ids(errors)
    assert any("FIELD_ENCRYPTION_KEY" in (e.hint or "") for e in errors)


def test_the_development_secret_key_is_refused_outside_debug():
    from django.conf import settings

    with override_settings(DEBUG=False, SECRET_KEY=settings.DEV_SECRET_KEY):
        assert "migrator.E001" in ids(check_settings())


def test_a_malformed_encryption_key_is_a_check_error():
    with override_settings(FIELD_ENCRYPTION_KEY="not-a-key"):
        errors = check_settings()
    assert "migrator.E002" in ids(errors)


def test_good_settings_pass():
    with override_settings(DEBUG=False, SECRET_KEY="a-real-long-random-production-key-0123456789"):
        assert check_settings() == []
