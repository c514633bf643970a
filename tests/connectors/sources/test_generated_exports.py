"""Generated exports: discovery profiling matches the manifest for every system; same seed, same bytes."""

import hashlib
import json
from pathlib import Path

import pytest

from connectors.base import SourceRecord, source_class
from connectors.sources.generate import SYSTEMS, generate, practice
from connectors.sources.generate.seen import SeenFilter
from connectors.sources.profiling import profile_connector

SAMPLES = Path(__file__).resolve().parents[3] / "fixtures" / "sources"


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for system in SYSTEMS:
        root = tmp_path_factory.mktemp(system)
        generate(system, patients=400, seed=11, out=root, large_files="sparse")
        out[system] = root
    return out


@pytest.mark.parametrize("system", SYSTEMS)
def test_discovery_of_a_generated_export_matches_its_manifest(exports: dict[str, Path], system: str) -> None:
    root = exports[system]
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    with source_class(system).from_connection({"path": str(root)}, {}) as connector:
        profile = profile_connector(connector)
    assert {o.name: o.count for o in profile.objects} == manifest["counts"]
    assert all(o.unreadable == 0 for o in profile.objects)
    assert profile.problems == manifest["problems"]
    assert profile.orphans == manifest["orphans"]
    for name in ("duplicate_patients_name_dob", "missing_email", "invalid_email", "non_patient_guarantors",
                 "oversize_notes", "inline_image_notes", "oversize_attachments", "orphans", "inactive_owner_records"):
        assert manifest["problems"][name] > 0, name


@pytest.mark.parametrize("system", SYSTEMS)
def test_same_seed_gives_byte_identical_files(tmp_path: Path, system: str) -> None:
    generate(system, patients=120, seed=5, out=tmp_path / "a", large_files="index")
    generate(system, patients=120, seed=5, out=tmp_path / "b", large_files="index")
    generate(system, patients=120, seed=6, out=tmp_path / "c", large_files="index")
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")
    assert tree_digest(tmp_path / "a") != tree_digest(tmp_path / "c")


def test_drdentes_exports_in_cp1254_by_default_and_utf8_bom_on_request(tmp_path: Path) -> None:
    generate("drdentes", patients=30, seed=2, out=tmp_path / "cp", large_files="index")
    generate("drdentes", patients=30, seed=2, out=tmp_path / "bom", encoding="utf-8-sig", large_files="index")
    texts = []
    for folder, expected in (("cp", "cp1254"), ("bom", "utf-8-sig")):
        with source_class("drdentes").from_connection({"path": str(tmp_path / folder)}, {}) as connector:
            spec = connector.spec("patient")
            assert connector.reader.encoding(spec).encoding == expected
            texts.append([dict(r.data) for r in connector.iter_records("patient") if isinstance(r, SourceRecord)])
    assert texts[0] == texts[1]
    assert any(ch in "".join(str(v) for row in texts[0] for v in row.values()) for ch in "şğıİ")


def test_owners_carry_crm_users_that_differ_only_by_normalization(exports: dict[str, Path]) -> None:
    root = exports["dentrix"]
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    with source_class("dentrix").from_connection({"path": str(root)}, {}) as connector:
        owners = {o.source_id: o for o in connector.owners()}
    assert len(owners) == 6 and sum(not o.active for o in owners.values()) == 1
    users = manifest["crm_users"]
    assert len(users) == 5
    assert all(owners[u["source_id"]].email == u["source_email"] != u["crm_email"] for u in users)


def test_attachments_stream_their_bytes_and_large_ones_keep_their_size(exports: dict[str, Path]) -> None:
    with source_class("dent-o-soft").from_connection({"path": str(exports["dent-o-soft"])}, {}) as connector:
        images = [r for r in connector.iter_records("imaging_file") if isinstance(r, SourceRecord)]
        refs = connector.attachments("patient", str(images[0].data["pat_id"]))
        assert refs and refs[0].file_name
        with connector.open_attachment(refs[0]) as fh:
            assert len(fh.read()) == refs[0].size
        big = max(images, key=lambda r: r.data["file_size"])
        ref = connector.attachments("imaging_file", big.source_id)[0]
        assert ref.size > 25 * 1024 * 1024
        assert (exports["dent-o-soft"] / ref.ref).stat().st_size == ref.size


@pytest.mark.parametrize("system", SYSTEMS)
def test_committed_sample_fixtures_still_match_their_manifests(system: str) -> None:
    root = SAMPLES / system
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    with source_class(system).from_connection({"path": str(root)}, {}) as connector:
        profile = profile_connector(connector)
    assert {o.name: o.count for o in profile.objects} == manifest["counts"]
    assert profile.problems == manifest["problems"]


@pytest.mark.parametrize("system", SYSTEMS)
def test_committed_samples_are_exactly_what_the_generator_writes_for_their_seed(tmp_path: Path, system: str) -> None:
    # If this fails the generator's output changed: regenerate the samples with the seed and size in their manifest.
    manifest = json.loads((SAMPLES / system / "manifest.json").read_text(encoding="utf-8"))
    generate(system, patients=manifest["patients_requested"], seed=manifest["seed"], out=tmp_path,
             large_files=manifest["large_files"])
    assert tree_digest(tmp_path) == tree_digest(SAMPLES / system)


def test_a_crowded_duplicate_filter_redraws_people_and_the_manifest_stays_exact(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixed-size filter that keeps accidental name/birth-date duplicates out answers "seen" for some new
    people once it fills up; those are drawn again, and every count in the manifest still matches discovery."""
    generate("dentrix", patients=400, seed=11, out=tmp_path / "roomy", large_files="index")
    monkeypatch.setattr(practice, "SeenFilter", lambda: SeenFilter(bits=1 << 11))
    root = tmp_path / "crowded"
    manifest = generate("dentrix", patients=400, seed=11, out=root, large_files="index")
    assert tree_digest(root) != tree_digest(tmp_path / "roomy")  # the false "seen" answers did redraw people
    with source_class("dentrix").from_connection({"path": str(root)}, {}) as connector:
        profile = profile_connector(connector)
    assert {o.name: o.count for o in profile.objects} == manifest["counts"]
    assert profile.problems == manifest["problems"]
    assert profile.orphans == manifest["orphans"]
    assert manifest["problems"]["duplicate_patients_name_dob"] > 0


def _ascii_header(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.readline().removeprefix(b"\xef\xbb\xbf").isascii()


@pytest.mark.parametrize(("system", "encoding", "all_ascii"), [("dentrix", "", True), ("drdentes", "cp1254", False)])
def test_discover_reads_ascii_header_lines_without_scanning_whole_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, system: str, encoding: str, all_ascii: bool) -> None:
    """Every work unit starts with discover(): it must not cost a pass over every file of the export. A header
    line that is not plain ASCII (Turkish column names in cp1254) still waits for the file's encoding."""
    from connectors.sources.exports import tables

    generate(system, patients=30, seed=3, out=tmp_path, encoding=encoding)
    scanned: list[str] = []
    detect = tables.detect_encoding

    def counting(path: Path, **kwargs: object) -> object:
        scanned.append(path.name)
        return detect(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tables, "detect_encoding", counting)
    with source_class(system).from_connection({"path": str(tmp_path)}, {}) as connector:
        objects = connector.discover()
    csv_files = {p.name for p in tmp_path.rglob("*.csv")}
    ascii_headers = {p.name for p in tmp_path.rglob("*.csv") if _ascii_header(p)}
    assert objects and (ascii_headers == csv_files) == all_ascii
    assert set(scanned) == csv_files - ascii_headers
    # The same objects and fields as when every file's encoding is decided first.
    with source_class(system).from_connection({"path": str(tmp_path), "encoding": encoding or "utf-8"}, {}) as conn:
        assert conn.discover() == objects
