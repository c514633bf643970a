"""The admin site: staff only; a customer (even one marked staff by mistake) is kept out."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from migrator.roles import is_customer


class MigratorAdminSite(admin.AdminSite):
    site_header = "Dental CRM migrations — back office"
    site_title = "Migrations back office"
    index_title = "Operations"

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and not is_customer(request.user)

