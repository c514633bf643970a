"""The mapping suggester: "AI proposes the map; you confirm before any record moves" (seeds).

    desc = SourceObjectDesc("patient", "Patient", (describe_field("LName", label="Last name", samples=[...]),))
    fields = destination_fields("zoho-crm", "Contacts")           # or the live connector's fields()
    module, confidence = suggest_module(desc, destination_modules("zoho-crm"), destination="zoho-crm")
    for s in suggest_fields(desc, fields, system="dentrix", destination="zoho-crm"): ...
    suggest_values(["A", "I"], picklist=("Active", "Inactive"))  # value-map proposals for coded fields
"""

from migrator.services.suggest.shapes import shape_of
from migrator.services.suggest.suggester import (
    RuleBasedSuggester,
    default_suggester,
    suggest_fields,
    suggest_module,
    suggest_values,
)
from migrator.services.suggest.types import (
    Alternative,
    CreateProposal,
    FieldSuggestion,
    SourceFieldDesc,
    SourceObjectDesc,
    Suggester,
    ValueSuggestion,
    describe_field,
)
from migrator.services.suggest.vocabulary import destination_fields, destination_modules

__all__ = [
    "Alternative",
    "CreateProposal",
    "FieldSuggestion",
    "RuleBasedSuggester",
    "SourceFieldDesc",
    "SourceObjectDesc",
    "Suggester",
    "ValueSuggestion",
    "default_suggester",
    "describe_field",
    "destination_fields",
    "destination_modules",
    "shape_of",
    "suggest_fields",
    "suggest_module",
    "suggest_values",
]
