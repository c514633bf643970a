"""The customer portal: a customer's migrations, their progress, and signed downloads of their documents.

Isolation: every object is looked up through portal_migrations(user), so anything of another client is a 404 —
by id, by URL, or by a download link issued to someone else."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from pydantic import ValidationError

from connectors.base import ConnectorError
from migrator.models import Migration, OwnerMatch, ReconciliationReport
from migrator.portal import documents
from migrator.portal.selectors import has_portal_access, migration_progress, portal_migrations
from migrator.services.downloads import FORMATS, DownloadLinkInvalid, download_token_make, download_token_read

logger = logging.getLogger(__name__)

_CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

View = Callable[..., HttpResponse]


def customer_view(view: View) -> View:
    """Logged in (else the portal login) and a member of some client (else nothing to see: 404)."""

    @login_required
    @never_cache
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not has_portal_access(request.user):
            raise Http404("No portal access")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@customer_view
def home(request: HttpRequest) -> HttpResponse:
    migrations = list(portal_migrations(request.user).order_by("client__name", "-created_at"))
    rows = [{"migration": m, "progress": migration_progress(m)} for m in migrations]
    return render(request, "portal/home.html", {"rows": rows})


def _links(request: HttpRequest, kind: str, object_id: int) -> list[dict[str, str]]:
    user_id = int(request.user.pk or 0)
    return [{"fmt": fmt.upper(), "url": reverse("portal:download", args=[
        download_token_make(user_id=user_id, kind=kind, object_id=object_id, fmt=fmt)])} for fmt in FORMATS[kind]]


@customer_view
def migration_detail(request: HttpRequest, migration_id: int) -> HttpResponse:
    migration = get_object_or_404(portal_migrations(request.user), pk=migration_id)
    reports = list(migration.reconciliation_reports.all())
    context = {
        "migration": migration,
        "progress": migration_progress(migration),
        "reports": [{"report": r, "links": _links(request, "reconciliation", r.pk)} for r in reports],
        "schema_items": migration.schema_plan.count(),
        "schema_links": _links(request, "schema-checklist", migration.pk),
        "unmatched": _unmatched(migration).count(),
        "owner_links": _links(request, "unmatched-owners", migration.pk),
        "rebuild_links": _links(request, "rebuild-reference", migration.pk),
        "max_age_minutes": max(1, int(settings.DOWNLOAD_LINK_MAX_AGE) // 60),
    }
    return render(request, "portal/migration.html", context)


def _unmatched(migration: Migration) -> Any:
    return (OwnerMatch.objects.filter(migration=migration).exclude(status=OwnerMatch.Status.CONFIRMED)
            .select_related("source_owner", "destination_user"))


@customer_view
def download(request: HttpRequest, token: str) -> HttpResponse:
    try:
        claim = download_token_read(token=token, user_id=int(request.user.pk or 0))
    except DownloadLinkInvalid as exc:
        logger.info("portal download refused for user %s: %s", request.user.pk, exc)
        raise Http404("Download link not valid") from None
    migrations = portal_migrations(request.user)
    if claim.kind == "reconciliation":
        report = get_object_or_404(ReconciliationReport.objects.select_related("migration__client", "migration__pair"),
                                   pk=claim.object_id, migration__in=migrations)
        from migrator.services.reconcile_report import render as render_reconciliation

        # The reconciliation renderers: titled tables and the source-vs-destination chart, no record values.
        return _file(render_reconciliation(report, claim.fmt), claim.fmt, f"reconciliation-{report.pk}")
    migration = get_object_or_404(migrations, pk=claim.object_id)
    if claim.kind == "schema-checklist":
        return _document_response(documents.schema_checklist_document(migration, migration.schema_plan.all()),
                                  claim.fmt)
    if claim.kind == "unmatched-owners":
        return _document_response(documents.unmatched_owners_document(migration, _unmatched(migration)), claim.fmt)
    return _rebuild_reference_response(request, migration, claim.fmt)


def _document_response(document: documents.Document, fmt: str) -> HttpResponse:
    body: str | bytes
    if fmt == "pdf":
        body = documents.render_pdf(document)
    elif fmt == "csv":
        body = documents.render_csv(document)
    elif fmt == "xlsx":
        body = documents.render_xlsx(document)
    else:
        body = documents.render_html(document)
    return _file(body, fmt, document.slug)


def _file(body: str | bytes, fmt: str, slug: str) -> HttpResponse:
    response = HttpResponse(body, content_type=_CONTENT_TYPES[fmt])
    disposition = "inline" if fmt == "html" else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{slug}.{fmt}"'
    return response


def _rebuild_reference_response(request: HttpRequest, migration: Migration, fmt: str) -> HttpResponse:
    from migrator.services import rebuild_reference

    try:
        reference = rebuild_reference.rebuild_reference_for_migration(migration=migration)
    except (ConnectorError, ValidationError, OSError, ImportError) as exc:
        # The source export may not be reachable from the web process; say so without any detail.
        logger.warning("rebuild reference for migration %s unavailable: %s", migration.pk, type(exc).__name__)
        return render(request, "portal/unavailable.html", {"migration": migration}, status=503)
    slug = f"rebuild-reference-{migration.pk}"
    if fmt == "pdf":
        return _file(rebuild_reference.rebuild_reference_pdf(reference), fmt, slug)
    return _file(rebuild_reference.rebuild_reference_html(reference), fmt, slug)
