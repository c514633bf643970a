"""Propose a field map from a schema file, with no migration in the database.

    manage.py suggest_mapping --schema SCHEMA.json --destination zoho-crm|freshsales [--module Contacts] --json

Samples in the schema are turned into shapes as soon as they are read and never printed or sent anywhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from migrator.services.suggest import (
    SourceObjectDesc,
    default_suggester,
    describe_field,
    destination_fields,
    destination_modules,
)


class _FieldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    label: str = ""
    type: str = "string"
    samples: list[Any] = Field(default_factory=list)
    codes: list[str] = Field(default_factory=list)


class _ObjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    label: str = ""
    fields: list[_FieldIn] = Field(min_length=1)


class _SchemaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    system: str = ""
    objects: list[_ObjectIn] = Field(min_length=1)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "schema"
    return f"{where}: {err['msg']}"


class Command(BaseCommand):
    help = "Suggest a field map for a source schema (JSON) against a destination's standard fields."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--schema", required=True, help="JSON file: {system, objects: [{name, fields: [...]}]}")
        parser.add_argument("--destination", required=True, choices=["zoho-crm", "freshsales"])
        parser.add_argument("--module", default="", help="Destination module for every object (default: suggested)")
        parser.add_argument("--json", action="store_true", help="Print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["schema"])
        try:
            raw = json.loads(path.read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise CommandError(f"schema file not found: {path}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"schema file {path} is not readable JSON ({type(exc).__name__})") from None
        try:
            schema = _SchemaIn.model_validate(raw)
        except ValidationError as exc:
            raise CommandError(f"schema file {path} is invalid: {_first_error(exc)}") from None
        destination: str = options["destination"]
        result = {"destination": destination, "objects": [self._object(o, schema.system, destination, options)
                                                          for o in schema.objects]}
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            self._print(result)

    def _object(self, obj: _ObjectIn, system: str, destination: str, options: dict[str, Any]) -> dict[str, Any]:
        # Samples become shapes here; nothing after this line holds a value.
        desc = SourceObjectDesc(name=obj.name, label=obj.label, fields=tuple(
            describe_field(f.name, label=f.label, type=f.type, samples=f.samples, codes=f.codes) for f in obj.fields))
        suggester = default_suggester()
        if options["module"]:
            module, confidence = options["module"], 1.0
        else:
            module, confidence = suggester.suggest_module(desc, destination_modules(destination), system=system,
                                                          destination=destination)
        try:
            targets = destination_fields(destination, module)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        fields = suggester.suggest_fields(desc, targets, system=system, destination=destination)
        return {"source": obj.name, "module": module, "confidence": confidence,
                "fields": [s.as_dict() for s in fields]}

    def _print(self, result: dict[str, Any]) -> None:
        for obj in result["objects"]:
            self.stdout.write(f"{obj['source']} → {obj['module']} ({obj['confidence']:.2f})")
            for f in obj["fields"]:
                if f["target"] is None:
                    create = f["create"]
                    self.stdout.write(f"  {f['source']:<28} create {create['api_name']} ({create['type']})")
                else:
                    self.stdout.write(f"  {f['source']:<28} {f['target']:<24} {f['confidence']:.2f}  "
                                      f"{f['transform']['kind']}")
