"""The Zoho CRM v8 simulator as a WSGI app: routing, auth, credits and concurrency, faults, and the test-only
`/__sim__/` endpoints (the only part that differs from Zoho)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from connectors.simulators.common import Faults, SimClock
from connectors.simulators.zoho import auth, bulk, editions, handlers
from connectors.simulators.zoho.state import OrgState, SimConfig

Handler = Callable[..., Response]

ROUTES = Map([
    Rule("/oauth/v2/token", endpoint="token", methods=["POST"]),
    Rule("/crm/v8/org", endpoint="org", methods=["GET"]),
    Rule("/crm/v8/users", endpoint="users", methods=["GET"]),
    Rule("/crm/v8/settings/modules", endpoint="modules", methods=["GET", "POST"]),
    Rule("/crm/v8/settings/fields", endpoint="fields", methods=["GET", "POST"]),
    Rule("/crm/v8/settings/fields/<field_id>", endpoint="field", methods=["GET"]),
    Rule("/crm/v8/upload", endpoint="upload", methods=["POST"]),
    Rule("/crm/bulk/v8/write", endpoint="bulk_create", methods=["POST"]),
    Rule("/crm/bulk/v8/write/<job_id>", endpoint="bulk_get", methods=["GET"]),
    Rule("/crm/bulk/v8/write/<job_id>/result.zip", endpoint="bulk_result", methods=["GET"]),
    Rule("/crm/v8/<module>/actions/count", endpoint="count", methods=["GET"]),
    Rule("/crm/v8/<module>/upsert", endpoint="upsert", methods=["POST"]),
    Rule("/crm/v8/<module>/deleted", endpoint="deleted", methods=["GET"]),
    Rule("/crm/v8/<module>", endpoint="records", methods=["GET", "POST", "PUT", "DELETE"]),
    Rule("/crm/v8/<module>/<record_id>", endpoint="record", methods=["GET", "PUT", "DELETE"]),
    Rule("/crm/v8/<module>/<record_id>/Attachments", endpoint="attachments", methods=["GET", "POST", "DELETE"]),
    Rule("/crm/v8/<module>/<record_id>/Attachments/<attachment_id>", endpoint="attachment", methods=["DELETE"]),
    Rule("/__sim__/state", endpoint="sim_state", methods=["GET"]),
    Rule("/__sim__/reset", endpoint="sim_reset", methods=["POST"]),
    Rule("/__sim__/clock", endpoint="sim_clock", methods=["POST"]),
    Rule("/__sim__/faults", endpoint="sim_faults", methods=["POST"]),
    Rule("/__sim__/credits", endpoint="sim_credits", methods=["GET"]),
    Rule("/__sim__/expire-tokens", endpoint="sim_expire", methods=["POST"]),
    Rule("/__sim__/records/<module>/<record_id>", endpoint="sim_edit", methods=["PATCH"]),
    Rule("/__sim__/subforms/<module>", endpoint="sim_subform", methods=["POST"]),
])

WRITE_ENDPOINTS = {"records", "upsert", "record"}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)


def error(code: str, message: str, status: int, details: dict[str, Any] | None = None) -> Response:
    return json_response({"code": code, "details": details or {}, "message": message, "status": "error"}, status)


class ZohoSimulator:
    """`ZohoSimulator(SimConfig(edition="enterprise", users=20))` is a WSGI app; `.state`, `.faults` and `.clock`
    are there for in-process tests."""

    def __init__(self, config: SimConfig | None = None, *, faults: Faults | None = None,
                 clock: SimClock | None = None) -> None:
        self.clock = clock or SimClock()
        self.faults = faults or Faults()
        self.state = OrgState(config or SimConfig(), self.clock)
        self.bulk = bulk.BulkEngine(self.state)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except HTTPException as exc:
            if exc.code == 404:
                response = error("INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one",
                                 404)
            elif exc.code == 405:
                response = error("INVALID_REQUEST_METHOD", "The http request method type is not a valid one", 405)
            else:
                response = exc.get_response(environ)
        finally:
            request.close()   # closes uploaded files' spooled temporaries
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = ROUTES.bind_to_environ(request.environ)
        endpoint, args = adapter.match()
        if endpoint == "token":
            status, body = auth.refresh(self.state, dict(request.form), request.host_url.rstrip("/"))
            return json_response(body, status)
        if endpoint.startswith("sim_"):
            return self.sim(endpoint, request, **args)
        denied = auth.check(self.state, request.headers.get("Authorization"))
        if denied is not None:
            return json_response(denied, 401)
        return self.gated(endpoint, request, dict(args))

    # ------------------------------------------------------------------------------------------- limits

    def _cost(self, endpoint: str, request: Request) -> tuple[int, int]:
        """(credits, number of records written): 1 a call, 1 per 10 records for writes, 500 a bulk job."""
        if endpoint == "bulk_create":
            return editions.COSTS["bulk_job"], 0
        if endpoint in ("records", "upsert", "record") and request.method in ("POST", "PUT"):
            try:
                n = len(json.loads(request.get_data() or b"{}").get("data") or [])
            except (ValueError, AttributeError):
                n = 1
            return max(1, math.ceil(n / editions.COSTS["records_per_credit"])), n
        return editions.COSTS["call"], 0

    def gated(self, endpoint: str, request: Request, args: dict[str, Any]) -> Response:
        state = self.state
        cost, n_written = self._cost(endpoint, request)
        big_write = n_written > editions.SUB_CONCURRENCY
        with state.lock:
            if state.in_flight >= state.concurrency or (
                big_write and state.writes_in_flight >= editions.SUB_CONCURRENCY
            ):
                state.rejected += 1
                return error("TOO_MANY_REQUESTS", "concurrency limit exceeded", 429)
            state.in_flight += 1
            state.writes_in_flight += int(big_write)
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            self.faults.note("calls")
            self.faults.delay()
            if self.faults.take_storm() or self.faults.roll(self.faults.rate_limit_rate):
                self.faults.note("429")
                return error("TOO_MANY_REQUESTS", "too many requests", 429)
            # A timeout either before the work (nothing happened) or after it (done, but the answer is lost: a
            # client that sends the same insert again makes a second record).
            late_timeout = False
            if self.faults.roll(self.faults.timeout_rate):
                late_timeout = self.faults.roll(self.faults.late_timeout_share)
                self.faults.note("late timeout" if late_timeout else "timeout")
                if not late_timeout:
                    time.sleep(self.faults.timeout_seconds)
                    return error("INTERNAL_ERROR", "Internal server error occurred.", 504)
            if self.faults.roll(self.faults.fault_rate):
                self.faults.note("5xx")
                return error("INTERNAL_ERROR", "Internal server error occurred.", 500)
            if not state.try_charge(cost):
                state.rejected += 1
                return error("TOO_MANY_REQUESTS", "API credits exhausted for the rolling 24 hours", 429,
                             {"allowed": state.allowance})
            response = handlers.handle(self, endpoint, request, **args)
            used = state.credits_used()
            if used * 2 >= state.allowance:
                response.headers["X-API-CREDITS-REMAINING"] = str(max(0, state.allowance - used))
            if late_timeout:
                time.sleep(self.faults.timeout_seconds)
            return response
        finally:
            with state.lock:
                state.in_flight -= 1
                state.writes_in_flight -= int(big_write)

    # ------------------------------------------------------------------------------------------- test-only

    def sim(self, endpoint: str, request: Request, **args: Any) -> Response:
        state = self.state
        body = request.get_json(silent=True) or {}
        if endpoint == "sim_state":
            return json_response(state.dump())
        if endpoint == "sim_reset":
            state.reset()
            return json_response({"reset": True})
        if endpoint == "sim_clock":
            self.clock.advance(float(body.get("seconds", 0)))
            return json_response({"now": self.clock.now()})
        if endpoint == "sim_faults":
            self.faults.update(body)
            return json_response({"faults": {k: getattr(self.faults, k) for k in (
                "latency_ms", "fault_rate", "rate_limit_rate", "timeout_rate", "late_timeout_share",
                "timeout_seconds", "storm_remaining", "partial_rate")}})
        if endpoint == "sim_credits":
            return json_response({"used": state.credits_used(), "total": state.credits_total,
                                  "allowance": state.allowance, "max_in_flight": state.max_in_flight,
                                  "rejected": state.rejected, "token_mints": sum(
                                      len(m) for m in state.token_mints.values()),
                                  "concurrency": state.concurrency})
        if endpoint == "sim_expire":
            return json_response({"expired": auth.expire_all(state)})
        if endpoint == "sim_subform":
            if args["module"] not in state.modules or not body.get("label"):
                return error("INVALID_MODULE", "The module name given seems to be invalid", 400)
            return json_response(handlers.admin_subform(self, args["module"], body), 201)
        from connectors.simulators.zoho.records import edit_as_user

        with state.lock:
            record = edit_as_user(state, args["module"], args["record_id"], body)
        if record is None:
            return error("INVALID_DATA", "the id given seems to be invalid", 404, {"id": args["record_id"]})
        return json_response({"id": record["id"], "Modified_Time": record["Modified_Time"]})
