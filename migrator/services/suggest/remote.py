"""OpenAICompatibleSuggester: asks a chat-completions endpoint (OpenAI or any compatible server) to rank targets.

Off by default: it is used only when MAPPING_SUGGESTER_URL and MAPPING_SUGGESTER_MODEL are set (Django settings,
else the environment). It sends field names, labels, types and value shapes — the same descriptions the local
suggester sees, never sample values or codes — and it never gets the last word on confidence: a target the local
rules do not also propose stays below 0.9, so the calibration promise holds whatever the model answers."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from connectors.base import DestField, DestModule
from migrator.services.suggest.suggester import TAKEN_CAP, RuleBasedSuggester
from migrator.services.suggest.types import Alternative, FieldSuggestion, SourceObjectDesc

logger = logging.getLogger(__name__)

REMOTE_ONLY_CAP = 0.89
SYSTEM_PROMPT = (
    "You map fields of a dental practice system to CRM fields. For every source field answer the best target "
    "api_name from the list, or null when none fits, with a confidence between 0 and 1. Answer JSON only: "
    '{"fields":[{"source":"…","target":"…"|null,"confidence":0.0}]}'
)


class _Message(BaseModel):
    content: str


class _Choice(BaseModel):
    message: _Message


class _Completion(BaseModel):
    choices: list[_Choice]


class _Pick(BaseModel):
    source: str
    target: str | None = None
    confidence: float = 0.0


class _Picks(BaseModel):
    fields: list[_Pick]


def _setting(name: str) -> str:
    from django.conf import settings

    return str(getattr(settings, name, "") or os.environ.get(name, ""))


class OpenAICompatibleSuggester:
    def __init__(
        self, *, base_url: str, model: str, api_key: str = "", timeout: float = 20.0,
        transport: httpx.BaseTransport | None = None, fallback: RuleBasedSuggester | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/") + "/", headers=headers, transport=transport,
                                    timeout=httpx.Timeout(timeout, connect=5.0))
        self.model = model
        self.local = fallback or RuleBasedSuggester()

    def __enter__(self) -> OpenAICompatibleSuggester:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    @staticmethod
    def request_body(source: SourceObjectDesc, targets: list[DestField], *, system: str, destination: str,
                     model: str) -> dict[str, Any]:
        """Everything that leaves the building, in one place (tests assert on it)."""
        payload = {
            "system": system,
            "destination": destination,
            "object": {"name": source.name, "label": source.label},
            "fields": [{"name": f.name, "label": f.label, "type": f.type, "shapes": list(f.shapes),
                        "max_length": f.max_length} for f in source.fields],
            "targets": [{"api_name": t.api_name, "label": t.label, "type": t.type} for t in targets],
        }
        return {
            "model": model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [{"role": "system", "content": SYSTEM_PROMPT},
                         {"role": "user", "content": json.dumps(payload, ensure_ascii=False)}],
        }

    def _ask(self, source: SourceObjectDesc, targets: list[DestField], *, system: str,
             destination: str) -> dict[str, _Pick]:
        body = self.request_body(source, targets, system=system, destination=destination, model=self.model)
        response = self._client.post("chat/completions", json=body)
        response.raise_for_status()
        completion = _Completion.model_validate_json(response.content)
        picks = _Picks.model_validate_json(completion.choices[0].message.content)
        return {p.source: p for p in picks.fields}

    def suggest_fields(
        self, source: SourceObjectDesc, destination_fields: list[DestField], *, system: str, destination: str,
    ) -> list[FieldSuggestion]:
        local = self.local.suggest_fields(source, destination_fields, system=system, destination=destination)
        try:
            picks = self._ask(source, destination_fields, system=system, destination=destination)
        except (httpx.HTTPError, ValidationError, IndexError) as exc:
            # Only the exception type is logged: the answer could echo field names, never values, but stay terse.
            logger.warning("remote mapping suggester unavailable (%s); using the local suggester", type(exc).__name__)
            return local
        valid = {f.api_name for f in destination_fields}
        return [self._merge(s, picks.get(s.source), valid) for s in local]

    @staticmethod
    def _merge(local: FieldSuggestion, pick: _Pick | None, valid: set[str]) -> FieldSuggestion:
        if pick is None or pick.target is None or pick.target not in valid:
            return local
        confidence = max(0.0, min(1.0, pick.confidence))
        if pick.target == local.target:
            return replace(local, confidence=max(local.confidence, min(confidence, TAKEN_CAP)))
        remote = min(confidence, REMOTE_ONLY_CAP)
        if remote <= local.confidence:
            alts = (*local.alternatives, Alternative(pick.target, round(remote, 3)))
            return replace(local, alternatives=alts)
        alts = tuple(a for a in local.alternatives if a.target != pick.target)
        if local.target is not None:
            alts = (Alternative(local.target, local.confidence), *alts)
        return replace(local, target=pick.target, confidence=round(remote, 3), alternatives=alts, create=None)

    def suggest_module(
        self, source: SourceObjectDesc, modules: Sequence[DestModule], *, system: str = "", destination: str = "",
    ) -> tuple[str, float]:
        return self.local.suggest_module(source, modules, system=system, destination=destination)


def remote_suggester_from_settings() -> OpenAICompatibleSuggester | None:
    url, model = _setting("MAPPING_SUGGESTER_URL"), _setting("MAPPING_SUGGESTER_MODEL")
    if not url or not model:
        return None
    return OpenAICompatibleSuggester(base_url=url, model=model, api_key=_setting("MAPPING_SUGGESTER_API_KEY"))
