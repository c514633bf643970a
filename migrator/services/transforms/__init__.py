"""Field transforms, routing rules and many:1 merges — the pure functions the load pipeline applies per record.

    spec = parse_transform(field_map.transform)          # ValueError with an admin-ready message
    outcome = apply_transform(spec, record.data, source_field=field_map.source_field, context=ctx)
    if outcome.error: fail the record with outcome.error.code / .message (no patient value in it)
"""

from migrator.services.transforms.apply import apply_transform
from migrator.services.transforms.base import TransformContext, TransformError, TransformOutcome
from migrator.services.transforms.merge import ProcedureMerge, SubformOutcome, merge_procedures, rows_to_subform
from migrator.services.transforms.routing import RULES, SKIP, route_record
from migrator.services.transforms.specs import KINDS, TransformSpec, dump_transform, parse_transform

__all__ = [
    "KINDS",
    "RULES",
    "SKIP",
    "ProcedureMerge",
    "SubformOutcome",
    "TransformContext",
    "TransformError",
    "TransformOutcome",
    "TransformSpec",
    "apply_transform",
    "dump_transform",
    "merge_procedures",
    "parse_transform",
    "route_record",
    "rows_to_subform",
]
