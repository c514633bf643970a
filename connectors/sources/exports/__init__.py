"""Shared export reading: encoding detection, CSV/XLSX/JSON/NDJSON streaming, per-locale value parsing."""

from connectors.sources.exports.encoding import EncodingChoice, EncodingRefused, detect_encoding
from connectors.sources.exports.tables import Column, TableReader, TableSpec
from connectors.sources.exports.values import Locale, ValueRejected, parse_value

__all__ = [
    "Column", "EncodingChoice", "EncodingRefused", "Locale", "TableReader", "TableSpec", "ValueRejected",
    "detect_encoding", "parse_value",
]
