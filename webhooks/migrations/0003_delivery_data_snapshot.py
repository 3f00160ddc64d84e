from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0002_webhookendpoint_deferred_until"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookdelivery",
            name="data",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
    ]
