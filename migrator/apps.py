from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class MigratorConfig(AppConfig):
    name = "migrator"
    verbose_name = "Migrations"

    def ready(self) -> None:
        from migrator import checks  # noqa: F401  (registers the system checks)

        # Each lifecycle gate is registered by the service that owns it; load them all in every process
        # (web, workers, commands) so every step is offered and checked everywhere.
        from migrator.services import mapping, owners, preflight, reconcile, rollback, runs  # noqa: F401


class MigratorAdminConfig(AdminConfig):
    """Django's admin on our own site class (customers are kept out)."""

    default_site = "migrator.admin_site.MigratorAdminSite"
