"""The three kinds of user, as group names and small predicates the admin and portal share."""

from __future__ import annotations

from typing import Any

OPERATIONS = "Operations"
ACCOUNT_MANAGERS = "Account managers"
CUSTOMERS = "Customers"


def is_customer(user: Any) -> bool:
    return bool(user.is_authenticated and user.groups.filter(name=CUSTOMERS).exists())


def is_account_manager(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.groups.filter(name=ACCOUNT_MANAGERS).exists()))
