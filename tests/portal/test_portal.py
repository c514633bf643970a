"""The customer portal: its own login, a customer's migrations and progress, signed downloads, strict isolation."""

import pytest
from django.contrib.auth.models import Group
from django.urls import URLPattern, reverse

from migrator.models import PortalMembership, ReconciliationReport, Run, SchemaPlanItem, WorkUnit
from migrator.portal import urls as portal_urls
from migrator.roles import CUSTOMERS
from migrator.services.downloads import FORMATS, download_token_make
from tests.factories import (
    MigrationFactory,
    OwnerMatchFactory,
    SourceOwnerFactory,
    StaffUserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PATIENT_VALUE = "Ayşe Yılmaz 0 (532) 111 22 33"


def customer_of(client):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=CUSTOMERS))
    PortalMembership.objects.create(user=user, client=client)
    return user


def practice(name):
    migration = MigrationFactory(name=f"{name} migration", client__name=f"{name} Dental")
    ReconciliationReport.objects.create(
        migration=migration, verdict=ReconciliationReport.Verdict.PASS, reasons=["counts add up"],
        data={"objects": [{"object": "patient", "source": 120, "created": 118, "skipped": 2, "failed": 0}],
              "owners": {"matched": 4, "fallback": 1},
              "diffs": [{"record_id": "P1", "field": "Last_Name", "source_value": PATIENT_VALUE,
                         "actual": PATIENT_VALUE}]},
    )
    SchemaPlanItem.objects.create(migration=migration, module="Contacts", label="Source System ID",
                                  api_name="Source_System_ID", type="text", length=64, unique=True,
                                  why="Idempotent upserts")
    OwnerMatchFactory(source_owner=SourceOwnerFactory(migration=migration, name=f"Dr. {name}"), record_count=7)
    run = Run.objects.create(migration=migration, kind=Run.Kind.FULL, state=Run.State.RUNNING)
    WorkUnit.objects.create(run=run, source_object="patient", total=200, processed=50)
    WorkUnit.objects.create(run=run, source_object="appointment", total=200, processed=150)
    return migration


@pytest.fixture
def a():
    return practice("Alpha")


@pytest.fixture
def b():
    return practice("Beta")


def test_a_customer_signs_in_on_the_portal_login_and_lands_on_their_migrations(client, a):
    user = customer_of(a.client)
    response = client.post(reverse("portal:login"), {"username": user.username, "password": "pw"})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")


def test_staff_without_a_membership_cannot_sign_in_or_see_anything(client, a):
    staff = StaffUserFactory()
    response = client.post(reverse("portal:login"), {"username": staff.username, "password": "pw"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    client.force_login(staff)
    assert client.get(reverse("portal:home")).status_code == 404
    assert client.get(reverse("portal:migration", args=[a.pk])).status_code == 404


def test_anonymous_visitors_are_sent_to_the_portal_login(client, a):
    response = client.get(reverse("portal:migration", args=[a.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_home_lists_only_the_customers_migrations_with_progress_from_work_units(client, a, b):
    client.force_login(customer_of(a.client))
    html = client.get(reverse("portal:home")).content.decode()
    assert "Alpha migration" in html
    assert "Beta" not in html
    assert "50%" in html and "200 of 400" in html


def test_the_migration_page_offers_every_download(client, a):
    client.force_login(customer_of(a.client))
    html = client.get(reverse("portal:migration", args=[a.pk])).content.decode()
    for label in ("Reconciliation report", "Schema-setup checklist", "Unmatched owners", "Workflow rebuild reference"):
        assert label in html
    assert html.count("/portal/download/") == sum(len(f) for f in FORMATS.values())


@pytest.mark.parametrize("fmt", FORMATS["reconciliation"])
def test_the_reconciliation_report_downloads_in_every_format_without_patient_values(client, a, fmt):
    user = customer_of(a.client)
    client.force_login(user)
    report = a.reconciliation_reports.get()
    response = client.get(reverse("portal:download", args=[
        download_token_make(user_id=user.pk, kind="reconciliation", object_id=report.pk, fmt=fmt)]))
    assert response.status_code == 200
    body = response.content
    assert PATIENT_VALUE.encode() not in body
    if fmt in {"html", "csv"}:
        assert b"patient" in body and b"118" in body
    if fmt == "xlsx":
        assert body.startswith(b"PK")
    if fmt == "pdf":
        assert body.startswith(b"%PDF")


@pytest.mark.parametrize(("kind", "expected"), [("schema-checklist", b"Source_System_ID"),
                                                 ("unmatched-owners", b"Dr. Alpha")])
def test_the_checklist_and_owner_report_download_as_csv(client, a, kind, expected):
    user = customer_of(a.client)
    client.force_login(user)
    response = client.get(reverse("portal:download", args=[
        download_token_make(user_id=user.pk, kind=kind, object_id=a.pk, fmt="csv")]))
    assert response.status_code == 200
    assert expected in response.content


def test_a_link_issued_to_someone_else_is_a_404(client, a):
    owner, other = customer_of(a.client), customer_of(a.client)
    token = download_token_make(user_id=owner.pk, kind="schema-checklist", object_id=a.pk, fmt="html")
    client.force_login(other)
    assert client.get(reverse("portal:download", args=[token])).status_code == 404


def test_an_expired_or_altered_link_is_a_404(client, a, settings):
    user = customer_of(a.client)
    client.force_login(user)
    token = download_token_make(user_id=user.pk, kind="schema-checklist", object_id=a.pk, fmt="html")
    assert client.get(reverse("portal:download", args=[token[:-2] + "xx"])).status_code == 404
    settings.DOWNLOAD_LINK_MAX_AGE = -1
    assert client.get(reverse("portal:download", args=[token])).status_code == 404


def _urls_for(pattern: URLPattern, b, holder, b_customer):
    """Every URL of `pattern` that could show client B's things to `holder` (a customer of A): B's ids, and
    download links for each of B's documents in each format, signed for A's customer and for B's."""
    if pattern.name in {"login", "logout", "home"}:
        return [reverse(f"portal:{pattern.name}")]
    if pattern.name == "migration":
        return [reverse("portal:migration", args=[b.pk])]
    if pattern.name == "download":
        urls = []
        report = b.reconciliation_reports.get()
        for kind, formats in FORMATS.items():
            object_id = report.pk if kind == "reconciliation" else b.pk
            for fmt in formats:
                for user in (holder, b_customer):
                    urls.append(reverse("portal:download", args=[
                        download_token_make(user_id=user.pk, kind=kind, object_id=object_id, fmt=fmt)]))
        return urls
    pytest.fail(f"the portal URL {pattern.name!r} ({pattern.pattern}) needs a case in _urls_for")


def test_every_portal_url_shows_nothing_of_client_b_to_a_customer_of_client_a(client, a, b):
    a_customer, b_customer = customer_of(a.client), customer_of(b.client)
    client.force_login(a_customer)
    patterns = [p for p in portal_urls.urlpatterns if isinstance(p, URLPattern)]
    assert len(patterns) == len(portal_urls.urlpatterns), "an included URL conf needs enumerating too"
    checked = 0
    for pattern in patterns:
        for url in _urls_for(pattern, b, a_customer, b_customer):
            response = client.get(url)
            if pattern.pattern.converters:   # anything naming B's things: not found
                assert response.status_code == 404, url
            else:                            # pages of the portal itself (logout wants a POST)
                assert response.status_code in (200, 302, 405), url
            assert b"Beta" not in response.content, url
            checked += 1
    assert checked == 3 + 1 + 2 * sum(len(f) for f in FORMATS.values())
    assert "_auth_user_id" in client.session       # still signed in: every download was tried as A's customer


def test_a_customer_of_both_clients_sees_both(client, a, b):
    user = customer_of(a.client)
    PortalMembership.objects.create(user=user, client=b.client)
    client.force_login(user)
    html = client.get(reverse("portal:home")).content.decode()
    assert "Alpha migration" in html and "Beta migration" in html


@pytest.mark.parametrize("fmt", FORMATS["rebuild-reference"])
def test_the_rebuild_reference_downloads_from_the_migrations_source_export(client, tmp_path, fmt, monkeypatch):
    from connectors.sources.generate import generate
    from tests.factories import PlatformPairFactory, SourcePlatformFactory

    generate("dentrix", patients=5, seed=2, out=tmp_path)
    pair = PlatformPairFactory(source=SourcePlatformFactory(slug="dentrix", name="Dentrix"))
    migration = MigrationFactory(pair=pair, source_connection__config={"path": str(tmp_path)})
    user = customer_of(migration.client)
    client.force_login(user)
    response = client.get(reverse("portal:download", args=[
        download_token_make(user_id=user.pk, kind="rebuild-reference", object_id=migration.pk, fmt=fmt)]))
    assert response.status_code == 200
    if fmt == "html":
        assert b"Workflow Rule" in response.content


def test_an_unreachable_source_export_gives_a_plain_unavailable_page(client, a):
    user = customer_of(a.client)
    client.force_login(user)
    response = client.get(reverse("portal:download", args=[
        download_token_make(user_id=user.pk, kind="rebuild-reference", object_id=a.pk, fmt="html")]))
    assert response.status_code == 503
    assert b"Not available yet" in response.content
