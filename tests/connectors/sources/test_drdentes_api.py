"""The Dr.DENTES API connector against the simulator: auth, pagination, cursors, updated_since, file bytes."""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from connectors.base import PermanentError, SourceRecord
from connectors.simulators.common import serving
from connectors.simulators.drdentes.app import DrDentesSimulator
from connectors.sources.drdentes.connector import DrDentesApiConnector, DrDentesConnector
from connectors.sources.generate import generate

TOKEN = "test-token"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("drdentes")
    generate("drdentes", patients=150, seed=3, out=root, large_files="index")
    return root


@pytest.fixture
def sim(data_dir: Path) -> DrDentesSimulator:
    return DrDentesSimulator(data_dir, TOKEN)


def connect(sim: DrDentesSimulator, token: str = TOKEN) -> DrDentesApiConnector:
    connector = DrDentesConnector.from_connection({"base_url": "http://drdentes.test"}, {"access_token": token},
                                                  transport=httpx.WSGITransport(app=sim))
    assert isinstance(connector, DrDentesApiConnector)
    return connector


def test_api_pages_through_every_patient_and_reads_like_the_export(sim: DrDentesSimulator, data_dir: Path) -> None:
    # The API's English keys come back under the export's column names: one map fits both readers.
    with connect(sim) as api, DrDentesConnector.from_connection({"path": str(data_dir)}, {}) as export:
        from_api = [r for r in api.iter_records("patient") if isinstance(r, SourceRecord)]
        from_export = [r for r in export.iter_records("patient") if isinstance(r, SourceRecord)]
        assert api.count("patient") == len(from_api) == len(from_export) > 100
        assert {r.source_id: r.data for r in from_api} == {r.source_id: r.data for r in from_export}
        assert api.discover() == export.discover()


def test_a_wrong_token_is_a_permanent_error(sim: DrDentesSimulator) -> None:
    with connect(sim, "nope") as api, pytest.raises(PermanentError, match="401"):
        api.count("patient")


def test_reading_resumes_from_a_cursor_mid_page(sim: DrDentesSimulator) -> None:
    with connect(sim) as api:
        ids = [r.source_id for r in api.iter_records("appointment")]
        first = list(api.iter_records("appointment"))
        resumed = [r.source_id for r in api.iter_records("appointment", cursor=first[142].cursor)]
    assert resumed == ids[143:]


def test_updated_since_returns_only_records_changed_after_the_watermark(sim: DrDentesSimulator) -> None:
    with connect(sim) as api:
        watermark = datetime.now(tz=ZoneInfo("Europe/Istanbul")) - timedelta(seconds=1)
        assert list(api.iter_records("patient", since=watermark)) == []
        client = httpx.Client(transport=httpx.WSGITransport(app=sim), base_url="http://drdentes.test")
        client.post("/_sim/records/patients", json={"id": "1", "email": "changed@example.com"})
        changed = [r for r in api.iter_records("patient", since=watermark) if isinstance(r, SourceRecord)]
    assert [r.source_id for r in changed] == ["1"]
    assert changed[0].modified_at is not None and changed[0].modified_at >= watermark


@pytest.mark.e2e
def test_file_bytes_stream_over_real_http(sim: DrDentesSimulator, data_dir: Path) -> None:
    with serving(sim) as server:
        api = DrDentesConnector.from_connection({"base_url": server.url}, {"access_token": TOKEN})
        with api:
            files = [r for r in api.iter_records("file") if isinstance(r, SourceRecord)]
            small = next(r for r in files if (data_dir / "dosyalar" / r.data["Dosya Adı"]).is_file())
            refs = api.attachments("patient", str(small.data["Hasta No"]))
            ref = next(r for r in refs if r.source_id == small.source_id)
            with api.open_attachment(ref) as fh:
                assert fh.read() == (data_dir / "dosyalar" / ref.file_name).read_bytes()
