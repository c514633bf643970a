"""`manage.py simulate freshsales` documents its options and serves the API over real HTTP."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from connectors.simulators.freshsales.cli import main

ROOT = Path(__file__).resolve().parents[3]


def test_help_documents_the_options_and_their_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"], prog="manage.py simulate freshsales")
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--port", "--plan", "--latency-ms", "--fault-rate", "--state"):
        assert option in text
    assert "(default: 8766)" in text and "(default: growth)" in text


@pytest.mark.e2e
def test_simulate_freshsales_prints_the_bundle_url_and_the_key_it_accepts() -> None:
    process = subprocess.Popen(
        [sys.executable, "manage.py", "simulate", "freshsales", "--port", "0", "--plan", "pro"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        url = lines[1].split("bundle URL:")[1].strip()
        key = lines[2].split("API key:")[1].strip()
        response = httpx.get(url + "selector/owners", headers={"Authorization": f"Token token={key}"}, timeout=5)
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit"] == "2000"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
