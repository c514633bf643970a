"""Zoho Accounts: the refresh-token grant and access-token checks (reference/zoho-crm-v8.md, "Hosts and auth")."""

from __future__ import annotations

import secrets
from collections import deque
from typing import Any

from connectors.simulators.zoho import editions
from connectors.simulators.zoho.state import OrgState


def refresh(state: OrgState, form: dict[str, str], api_domain: str) -> tuple[int, dict[str, Any]]:
    """POST /oauth/v2/token. Errors come back as HTTP 200 with {"error": ...}, as Zoho does."""
    cfg = state.config
    if form.get("grant_type") != "refresh_token":
        return 200, {"error": "unsupported_grant_type"}
    if form.get("client_id") != cfg.client_id or form.get("client_secret") != cfg.client_secret:
        return 200, {"error": "invalid_client"}
    if form.get("refresh_token") != cfg.refresh_token:
        return 200, {"error": "invalid_code"}
    now = state.clock.now()
    with state.lock:
        mints = state.token_mints.setdefault(cfg.refresh_token, deque())
        while mints and mints[0] <= now - editions.TOKEN_WINDOW_SECONDS:
            mints.popleft()
        if len(mints) >= editions.TOKENS_PER_WINDOW:
            return 400, {"error": "Access Denied", "error_description":
                         "You have made too many requests continuously. Please try again after some time."}
        mints.append(now)
        token = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
        state.access_tokens[token] = now + cfg.token_lifetime
    return 200, {"access_token": token, "scope": "ZohoCRM.modules.ALL ZohoCRM.settings.ALL ZohoCRM.bulk.ALL",
                 "api_domain": api_domain, "token_type": "Bearer", "expires_in": cfg.token_lifetime}


def check(state: OrgState, header: str | None) -> dict[str, Any] | None:
    """None when the request may pass, else the 401 body."""
    scheme, _, token = (header or "").partition(" ")
    if scheme != "Zoho-oauthtoken" or not token:
        return {"code": "AUTHENTICATION_FAILURE", "details": {}, "message": "Authentication failed",
                "status": "error"}
    expiry = state.access_tokens.get(token)
    if expiry is None or expiry <= state.clock.now():
        return {"code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"}
    return None


def expire_all(state: OrgState) -> int:
    with state.lock:
        count = len(state.access_tokens)
        state.access_tokens.clear()
        return count
