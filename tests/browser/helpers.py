"""What a person does in these journeys: sign in, run an admin action, download a file, keep a screenshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from playwright.sync_api import Download, Page, expect

from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"  # a generated test user's password
SCREENSHOTS = settings.VAR_DIR / "screenshots"


def person_in(group_name: str, username: str, *, staff: bool) -> Any:
    """A user of one of the three roles, with a password to type into a login page."""
    user = UserFactory(username=username, is_staff=staff, password=PASSWORD)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def admin_login(page: Page, user: Any) -> None:
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#user-tools")).to_contain_text(user.username)


def portal_login(page: Page, user: Any) -> None:
    page.goto("/portal/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def open_model_list(page: Page, model: str) -> None:
    """Follow the admin's link to a model's change list (index or side bar); the app's own link has the same
    name as its Migration model, so the link is told by where it goes."""
    page.locator(f"a[href='/admin/migrator/{model}/']").first.click()


def run_admin_action(page: Page, action_label: str) -> None:
    """Choose an action in a change list's action bar and run it on the rows already ticked."""
    page.locator("select[name=action]").select_option(label=action_label)
    page.get_by_role("button", name="Go").click()


def download_bytes(download: Download) -> bytes:
    path = download.path()
    return Path(path).read_bytes()


def screenshot(page: Page, name: str) -> Path:
    """Keep a picture of a journey's last page (var/screenshots/<name>.png) for people to look at."""
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path
