"""`manage.py simulate {zoho,freshsales,drdentes} [options]`: serve a local simulator over real HTTP.

Each simulator package owns its options: `manage.py simulate zoho --help` lists them."""

from __future__ import annotations

import importlib
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

SIMULATORS = {
    "zoho": "connectors.simulators.zoho.cli",
    "freshsales": "connectors.simulators.freshsales.cli",
    "drdentes": "connectors.simulators.drdentes.cli",
}


class Command(BaseCommand):
    help = "Serve a local, wire-faithful simulator of an external system (zoho, freshsales, drdentes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("system", choices=sorted(SIMULATORS))
        parser.add_argument("args", nargs="...", help="the simulator's own options; see `simulate SYSTEM --help`")

    def run_from_argv(self, argv: list[str]) -> None:
        # Forward everything after the system name (including --help) to the simulator's own parser.
        if len(argv) > 2 and argv[2] in SIMULATORS:
            cli = importlib.import_module(SIMULATORS[argv[2]])
            raise SystemExit(cli.main(argv[3:], prog=f"{argv[0]} simulate {argv[2]}"))
        super().run_from_argv(argv)

    def handle(self, *args: Any, **options: Any) -> None:
        cli = importlib.import_module(SIMULATORS[options["system"]])
        code = cli.main(list(options["args"]), prog=f"manage.py simulate {options['system']}")
        if code:
            raise CommandError(f"simulator exited with status {code}")
