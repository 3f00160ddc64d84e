"""Orders carry `test` (made with a test-mode token) and `deleted_at` (soft delete)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_search_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="deleted_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="order",
            name="test",
            field=models.BooleanField(default=False, editable=False),
        ),
    ]
