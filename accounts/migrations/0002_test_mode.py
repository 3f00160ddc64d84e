import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="test",
            field=models.BooleanField(default=False, help_text="Orders created with this token are test orders."),
        ),
        migrations.AddField(
            model_name="organization",
            name="test_installer_for",
            field=models.OneToOneField(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="test_installer",
                to="accounts.organization",
            ),
        ),
    ]
