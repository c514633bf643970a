"""The catalog: what each system holds, each pair's default object mappings (from the seed pages), editions and
their limits, and the gotchas quotes and preflight checks act on. Loaded from fixtures/catalog/ by `loadcatalog`."""

from __future__ import annotations

from django.db import models


class Platform(models.Model):
    class Kind(models.TextChoices):
        SOURCE = "source", "Source (practice-management system)"
        DESTINATION = "destination", "Destination (CRM)"

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class PlatformObject(models.Model):
    """An object a source holds (patient, appointment…) or a module a destination offers (Contacts, deals…)."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="platform_objects")
    key = models.CharField(max_length=100)
    label = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["platform", "key"]
        constraints = [models.UniqueConstraint(fields=["platform", "key"], name="uniq_platform_object")]

    def __str__(self) -> str:
        return f"{self.platform.slug}:{self.key}"


class PlatformField(models.Model):
    """A known field of a platform object: the vocabulary the mapping suggester ranks against."""

    platform_object = models.ForeignKey(PlatformObject, on_delete=models.CASCADE, related_name="fields")
    name = models.CharField(max_length=200)
    label = models.CharField(max_length=200, blank=True)
    type = models.CharField(max_length=30, blank=True)
    length = models.PositiveIntegerField(null=True, blank=True)
    mandatory = models.BooleanField(default=False)
    custom = models.BooleanField(default=False)

    class Meta:
        ordering = ["platform_object", "name"]
        constraints = [models.UniqueConstraint(fields=["platform_object", "name"], name="uniq_platform_field")]

    def __str__(self) -> str:
        return f"{self.platform_object}.{self.name}"


class Edition(models.Model):
    """A destination's edition or plan with its limits, kept as editable data (vendors change them)."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="editions")
    slug = models.SlugField()
    name = models.CharField(max_length=100)
    api_access = models.BooleanField(default=True)
    limits = models.JSONField(default=dict, blank=True)
    features = models.JSONField(default=dict, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["platform", "position"]
        constraints = [models.UniqueConstraint(fields=["platform", "slug"], name="uniq_edition")]

    def __str__(self) -> str:
        return f"{self.platform.name} {self.name}"


class PlatformPair(models.Model):
    class Grade(models.TextChoices):
        A = "A", "A — simple"
        B = "B", "B — standard"
        C = "C", "C — complex"

    source = models.ForeignKey(Platform, on_delete=models.PROTECT, related_name="pairs_as_source")
    destination = models.ForeignKey(Platform, on_delete=models.PROTECT, related_name="pairs_as_destination")
    seed = models.CharField(max_length=100, blank=True, help_text="The public page this pair's promise comes from.")
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    compatible_objects = models.PositiveSmallIntegerField(default=0)
    total_objects = models.PositiveSmallIntegerField(default=0)
    complexity_grade = models.CharField(max_length=1, choices=Grade.choices, default=Grade.B)
    complexity_label = models.CharField(max_length=50, blank=True)
    complexity_reasons = models.JSONField(default=dict, blank=True)
    timeline_min_weeks = models.PositiveSmallIntegerField(default=1)
    timeline_max_weeks = models.PositiveSmallIntegerField(default=1)
    timeline_text = models.CharField(max_length=50, blank=True)
    source_id_field = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["source__name", "destination__name"]
        constraints = [models.UniqueConstraint(fields=["source", "destination"], name="uniq_platform_pair")]

    def __str__(self) -> str:
        return self.title or f"{self.source} → {self.destination}"

    @property
    def slug(self) -> str:
        return f"{self.source.slug}:{self.destination.slug}"


class MappingStrategy(models.TextChoices):
    RECORDS = "records", "Records (1:1)"
    ROUTED_RECORDS = "routed_records", "Routed records (1:many)"
    MERGE_FIELDS = "merge_fields", "Fields on the parent record"
    SUBFORM = "subform", "Subform rows on the parent"
    NOTES = "notes", "Notes on the parent"
    ATTACHMENTS = "attachments", "Attachments of the parent"
    USERS = "users", "Users (owner matching)"
    PICKLIST_VALUES = "picklist_values", "Picklist values (value map)"
    CUSTOM_FIELDS = "custom_fields", "Custom fields"
    CUSTOM_MODULE = "custom_module", "Custom module"
    REBUILD_REFERENCE = "rebuild_reference", "Manual rebuild (documented)"


class Cardinality(models.TextChoices):
    ONE_TO_ONE = "1:1", "1:1"
    ONE_TO_MANY = "1:many", "1:many"
    MANY_TO_ONE = "many:1", "many:1"


class PairObjectMapping(models.Model):
    """One row of a seed page's object-mapping table: the default a migration's map starts from."""

    pair = models.ForeignKey(PlatformPair, on_delete=models.CASCADE, related_name="object_mappings")
    position = models.PositiveSmallIntegerField()
    source_label = models.CharField(max_length=200)
    destination_label = models.CharField(max_length=200)
    cardinality = models.CharField(max_length=10, choices=Cardinality.choices)
    compatibility = models.CharField(max_length=50)
    description = models.TextField(blank=True)
    source_objects = models.JSONField(default=list)
    strategy = models.CharField(max_length=30, choices=MappingStrategy.choices)
    destination_module = models.CharField(max_length=100, blank=True)
    parent_source_object = models.CharField(max_length=100, blank=True)
    route = models.JSONField(null=True, blank=True)
    custom_module = models.JSONField(null=True, blank=True)
    companion = models.JSONField(
        null=True, blank=True, help_text="A second move riding on this row (e.g. images as attachments)."
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["pair", "position"]
        constraints = [models.UniqueConstraint(fields=["pair", "position"], name="uniq_pair_mapping_position")]

    def __str__(self) -> str:
        return f"{self.source_label} → {self.destination_label} ({self.cardinality})"


class PairCustomField(models.Model):
    """A custom field the pair's seed page promises to create in the destination."""

    pair = models.ForeignKey(PlatformPair, on_delete=models.CASCADE, related_name="custom_fields")
    module = models.CharField(max_length=100)
    label = models.CharField(max_length=200)
    api_name = models.CharField(max_length=200)
    type = models.CharField(max_length=30)
    length = models.PositiveIntegerField(null=True, blank=True)
    picklist = models.JSONField(default=list, blank=True)
    lookup_module = models.CharField(max_length=100, blank=True)
    unique = models.BooleanField(default=False)
    subform = models.CharField(max_length=200, blank=True, help_text="Set when the field lives in a subform.")
    why = models.TextField(blank=True)

    class Meta:
        ordering = ["pair", "module", "label"]
        constraints = [
            models.UniqueConstraint(fields=["pair", "module", "subform", "label"], name="uniq_pair_custom_field"),
        ]

    def __str__(self) -> str:
        return f"{self.module}.{self.label}"


class Gotcha(models.Model):
    """A known trap of a platform or a pair, shown on quotes and acted on by preflight checks."""

    class Severity(models.TextChoices):
        BLOCKER = "blocker", "Blocker"
        WARNING = "warning", "Warning"
        INFO = "info", "Info"

    platform = models.ForeignKey(Platform, null=True, blank=True, on_delete=models.CASCADE, related_name="gotchas")
    pair = models.ForeignKey(PlatformPair, null=True, blank=True, on_delete=models.CASCADE, related_name="gotchas")
    key = models.SlugField(max_length=100)
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    check_name = models.CharField(max_length=100, blank=True, help_text="Name of the automatic check, if any.")

    class Meta:
        ordering = ["severity", "title"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "key"], name="uniq_platform_gotcha",
                                    condition=models.Q(platform__isnull=False)),
            models.UniqueConstraint(fields=["pair", "key"], name="uniq_pair_gotcha",
                                    condition=models.Q(pair__isnull=False)),
            models.CheckConstraint(
                condition=models.Q(platform__isnull=False) ^ models.Q(pair__isnull=False),
                name="gotcha_platform_xor_pair",
            ),
        ]

    def __str__(self) -> str:
        return self.title
