from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookendpoint",
            name="deferred_until",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="An attempt timed out: the endpoint's deliveries wait until then, so a slow receiver holds a worker for one attempt at a time, not one per queued delivery.",
                null=True,
            ),
        ),
    ]
