"""`manage.py simulate drdentes --port 8767 --data DIR [--token T]`: serve a generated export as the REST API."""

from __future__ import annotations

import argparse
import secrets
import threading
from pathlib import Path

from connectors.simulators.common import Faults, start_server
from connectors.simulators.drdentes.app import DrDentesSimulator


def main(argv: list[str], prog: str) -> int:
    parser = argparse.ArgumentParser(prog=prog, description="Local Dr.DENTES REST API over a generated export")
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--data", type=Path, required=True, help="a folder written by make_fixture drdentes")
    parser.add_argument("--token", default="", help="the access token to accept (random when omitted)")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"--data {args.data} is not a folder")
    token = args.token or secrets.token_urlsafe(24)
    app = DrDentesSimulator(args.data, token, faults=Faults(latency_ms=args.latency_ms, fault_rate=args.fault_rate))
    handle = start_server(app, args.port)
    print(f"Dr.DENTES simulator on {handle.url}/api/v1  access token: {token}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
    return 0
