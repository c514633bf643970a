from migrator.models.audit import AppendOnlyError, AuditEntry
from migrator.models.catalog import (
    Cardinality,
    Edition,
    Gotcha,
    MappingStrategy,
    PairCustomField,
    PairObjectMapping,
    Platform,
    PlatformField,
    PlatformObject,
    PlatformPair,
)
from migrator.models.clients import Client, Connection, DeltaWindow, Migration, MigrationEvent, PortalMembership
from migrator.models.commercial import PricingRule, Quote, ReconciliationReport, SchemaPlanItem
from migrator.models.discovery import DiscoveredField, DiscoveredObject
from migrator.models.mapping import FieldMap, ObjectMapping, Origin, ReviewStatus, ValueMap
from migrator.models.owners import DestinationUser, OwnerMatch, SourceOwner
from migrator.models.runs import Conflict, RecordLink, Run, SampleDiff, WorkUnit

__all__ = [
    "AppendOnlyError",
    "AuditEntry",
    "Cardinality",
    "Client",
    "Conflict",
    "Connection",
    "DeltaWindow",
    "DestinationUser",
    "DiscoveredField",
    "DiscoveredObject",
    "Edition",
    "FieldMap",
    "Gotcha",
    "MappingStrategy",
    "Migration",
    "MigrationEvent",
    "ObjectMapping",
    "Origin",
    "OwnerMatch",
    "PairCustomField",
    "PairObjectMapping",
    "Platform",
    "PlatformField",
    "PlatformObject",
    "PlatformPair",
    "PortalMembership",
    "PricingRule",
    "Quote",
    "ReconciliationReport",
    "RecordLink",
    "ReviewStatus",
    "Run",
    "SampleDiff",
    "SchemaPlanItem",
    "SourceOwner",
    "ValueMap",
    "WorkUnit",
]
