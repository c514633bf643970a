from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from migrator.portal.selectors import has_portal_access


class PortalLoginForm(AuthenticationForm):
    """Only users with a portal membership get in; staff accounts without one are refused like bad passwords."""

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not has_portal_access(user):
            raise ValidationError(self.error_messages["invalid_login"], code="invalid_login",
                                  params={"username": self.username_field.verbose_name})
