"""ModelAdmins per area; importing this package registers them on the back-office site."""

from migrator.admin import catalog, clients, commercial, conflicts, delta_window, mapping, owners, runs  # noqa: F401
