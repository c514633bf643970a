"""The three roles as groups with fitting permissions. Customers get none: they use the portal, not the admin."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPERATIONS = {
    "view": "*",
    "add": ["client", "connection", "migration", "objectmapping", "fieldmap", "valuemap", "ownermatch",
            "sourceowner", "destinationuser", "run", "conflict", "reconciliationreport", "schemaplanitem",
            "portalmembership"],
    "change": ["client", "connection", "migration", "objectmapping", "fieldmap", "valuemap", "ownermatch",
               "sourceowner", "run", "conflict", "reconciliationreport", "schemaplanitem", "workunit"],
    "delete": ["fieldmap", "valuemap", "portalmembership"],
}
ACCOUNT_MANAGERS = {
    "view": ["platform", "platformobject", "platformfield", "platformpair", "pairobjectmapping",
             "paircustomfield", "edition", "gotcha", "client", "migration", "discoveredobject", "discoveredfield",
             "schemaplanitem", "quote", "pricingrule", "reconciliationreport", "objectmapping", "fieldmap"],
    "add": ["quote", "client", "pricingrule"],
    "change": ["quote", "pricingrule", "client"],
    "delete": ["quote"],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; make them now so the groups can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    app_perms = Permission.objects.filter(content_type__app_label="migrator")

    def grant(group_name, spec):
        group, _ = Group.objects.get_or_create(name=group_name)
        codenames = []
        for action, models in spec.items():
            if models == "*":
                codenames += [p.codename for p in app_perms if p.codename.startswith(action + "_")]
            else:
                codenames += [f"{action}_{m}" for m in models]
        group.permissions.set(app_perms.filter(codename__in=codenames))

    grant("Operations", OPERATIONS)
    grant("Account managers", ACCOUNT_MANAGERS)
    Group.objects.get_or_create(name="Customers")


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Operations", "Account managers", "Customers"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("migrator", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_roles, remove_roles)]
