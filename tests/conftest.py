"""Shared fixtures. The suite runs on whatever DATABASE_URL/REDIS_URL say (make test: the real PostgreSQL and
Redis of the machine)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from migrator.models import PairObjectMapping
from migrator.services.catalog import catalog_load


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    """Load the real catalog once into the test database; tests roll back around it. The test database is new,
    so its ids repeat those of an earlier session: the Redis db `make test` dedicates to the suite is emptied too, or
    API budgets, tokens and queues keyed by those ids would carry over (MIGRATOR_TEST_REDIS_FLUSH=1 says it is
    the suite's own db)."""
    with django_db_blocker.unblock():
        catalog_load()
    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url and os.environ.get("MIGRATOR_TEST_REDIS_FLUSH") == "1":
        import redis

        redis.Redis.from_url(redis_url).flushdb()


@pytest.fixture
def catalog(db: None) -> None:
    """The real catalog from fixtures/catalog/ (reloaded when a transactional test flushed it)."""
    if PairObjectMapping.objects.count() != 62:
        catalog_load()
