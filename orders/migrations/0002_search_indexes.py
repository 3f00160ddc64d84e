"""The indexes behind `q` of List Orders: the display id in any case (every database), and the
text fields by trigrams (PostgreSQL: the pg_trgm extension and GIN indexes; other databases get
the state only, and search those fields by scanning)."""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models
from django.db.models.functions import Upper


class AddIndexOnPostgreSQL(migrations.AddIndex):
    """AddIndex on PostgreSQL; elsewhere only the migration state changes."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def trigram_index(key: str, field: str) -> AddIndexOnPostgreSQL:
    return AddIndexOnPostgreSQL(
        model_name="order",
        index=GinIndex(OpClass(Upper(field), name="gin_trgm_ops"), name=f"order_q_{key}_trgm"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
    ]

    operations = [
        TrigramExtension(),  # does nothing on other databases
        migrations.AddIndex(
            model_name="order",
            index=models.Index(Upper("display_id"), name="order_q_display_id_upper"),
        ),
        trigram_index("name", "name"),
        trigram_index("contact", "contact_person_name"),
        trigram_index("email", "email"),
        trigram_index("address", "address"),
    ]
