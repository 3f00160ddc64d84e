"""Sets Organization.has_webhook_endpoints for organizations that already have endpoints
(the flag lets the outbox hook skip its query for the others; issue 8)."""

from django.db import migrations


def flag(apps, schema_editor):
    Organization = apps.get_model("orders", "Organization")
    WebhookEndpoint = apps.get_model("webhooks", "WebhookEndpoint")
    ids = WebhookEndpoint.objects.values("organization_id")
    Organization.objects.filter(pk__in=ids).update(has_webhook_endpoints=True)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_perf_workflow_version_webhook_flag_indexes"),
        ("webhooks", "0001_initial"),
    ]

    operations = [migrations.RunPython(flag, migrations.RunPython.noop)]
