"""System checks for configuration: each error says what to set."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=False)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors: list[Error] = []
    if not settings.SECRET_KEY:
        errors.append(Error(
            "SECRET_KEY is empty and DEBUG is off.",
            hint="Set the SECRET_KEY environment variable to a long random string.",
            id="migrator.E001",
        ))
    elif not settings.DEBUG and settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        errors.append(Error(
            "SECRET_KEY is the development default while DEBUG is off.",
            hint="Set the SECRET_KEY environment variable to a long random string.",
            id="migrator.E001",
        ))
    from migrator.crypto import encryption_key_problem

    problem = encryption_key_problem()
    if problem:
        errors.append(Error(
            problem,
            hint="Set FIELD_ENCRYPTION_KEY to a Fernet key: "
                 "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'",
            id="migrator.E002",
        ))
    for queue, conf in settings.RQ_QUEUES.items():
        url = conf.get("URL", "")
        if settings.REDIS_URL and not url.startswith(("redis://", "rediss://", "unix://")):
            errors.append(Error(
                f"REDIS_URL for queue {queue!r} is not a redis:// URL.",
                hint="Set REDIS_URL like redis://127.0.0.1:6379/0, or unset it to run jobs in-process.",
                id="migrator.E003",
            ))
    return errors
