"""Signed, expiring download links for the customer portal.

A link carries (user id, document kind, object id, format) signed with a TimestampSigner, so it works only for the
user it was issued to, only for that one document, and only for DOWNLOAD_LINK_MAX_AGE seconds. The view still
checks that the object belongs to one of the user's clients: a valid signature is necessary, never sufficient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing

_SALT = "migrator.portal.download"

# Document kind -> the formats it can be downloaded in. The object id is a ReconciliationReport id for
# "reconciliation" and a Migration id for the others.
FORMATS: dict[str, tuple[str, ...]] = {
    "reconciliation": ("html", "pdf", "csv", "xlsx"),
    "schema-checklist": ("html", "pdf", "csv", "xlsx"),
    "unmatched-owners": ("html", "pdf", "csv", "xlsx"),
    "rebuild-reference": ("html", "pdf"),
}


class DownloadLinkInvalid(Exception):
    """The link is forged, altered, issued to someone else, or expired. The message is safe to log."""


@dataclass(frozen=True)
class DownloadClaim:
    user_id: int
    kind: str
    object_id: int
    fmt: str


def download_token_make(*, user_id: int, kind: str, object_id: int, fmt: str) -> str:
    if fmt not in FORMATS.get(kind, ()):
        raise ValueError(f"{kind!r} has no {fmt!r} download")
    payload = {"u": user_id, "k": kind, "o": object_id, "f": fmt}
    return signing.TimestampSigner(salt=_SALT).sign_object(payload, compress=True)


def download_token_read(*, token: str, user_id: int, max_age: int | None = None) -> DownloadClaim:
    """The claim in `token` if it is genuine, unexpired and issued to `user_id`."""
    age = settings.DOWNLOAD_LINK_MAX_AGE if max_age is None else max_age
    try:
        payload: Any = signing.TimestampSigner(salt=_SALT).unsign_object(token, max_age=age)
    except signing.SignatureExpired:
        raise DownloadLinkInvalid("download link expired") from None
    except signing.BadSignature:
        raise DownloadLinkInvalid("download link signature is invalid") from None
    try:
        claim = DownloadClaim(int(payload["u"]), str(payload["k"]), int(payload["o"]), str(payload["f"]))
    except (KeyError, TypeError, ValueError):
        raise DownloadLinkInvalid("download link payload is malformed") from None
    if claim.user_id != user_id:
        raise DownloadLinkInvalid("download link was issued to another user")
    if claim.fmt not in FORMATS.get(claim.kind, ()):
        raise DownloadLinkInvalid("download link names an unknown document")
    return claim
