"""`manage.py make_fixture {drdentes,dentrix,dental-exec,dent-o-soft} --patients N --seed S --out DIR`:
write a realistic, deterministic export of a dental practice and its manifest.json (true counts and problems)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.sources.generate import SYSTEMS, generate


class Command(BaseCommand):
    help = "Generate a practice-management export (with its data-quality problems) and a manifest."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("system", choices=SYSTEMS)
        parser.add_argument("--patients", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument("--encoding", default="", help="Dr.DENTES: cp1254 (default) or utf-8-sig")
        parser.add_argument("--large-files", choices=("sparse", "index"), default="sparse",
                            help="over-25 MB attachments as sparse files, or as index entries only")
        parser.add_argument("--json", action="store_true", help="print the manifest as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["patients"] < 1:
            raise CommandError("--patients must be at least 1")
        manifest = generate(options["system"], patients=options["patients"], seed=options["seed"],
                            out=options["out"], encoding=options["encoding"], large_files=options["large_files"])
        if options["json"]:
            self.stdout.write(json.dumps(manifest, ensure_ascii=False, indent=2))
        else:
            total = sum(manifest["counts"].values())
            self.stdout.write(f"{options['system']}: {total} records in {len(manifest['counts'])} objects "
                              f"written to {options['out']}")
