"""The indexes behind `q` of List Orders.

- The display id in any case: an ordinary expression index, declared on the model.
- The text fields (`orders.models.SEARCH_FIELDS`) by trigrams, for a substring in any case: the
  pg_trgm extension and one GIN index per field, on PostgreSQL only. They live in the database
  and not in the model's state, so that SQLite (which has no GIN) never meets them, not even when
  a later migration rebuilds the table there.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models
from django.db.models.functions import Upper

TRIGRAM_INDEXES = {
    "order_q_name_trgm": "name",
    "order_q_contact_trgm": "contact_person_name",
    "order_q_email_trgm": "email",
    "order_q_address_trgm": "address",
}


class AddIndexOnPostgreSQL(migrations.AddIndex):
    """AddIndex on PostgreSQL only (used with no state operation: see the module docstring)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(Upper("display_id"), name="order_q_display_id_upper"),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                TrigramExtension(),  # does nothing on other databases
                *(
                    AddIndexOnPostgreSQL(
                        model_name="order",
                        index=GinIndex(OpClass(Upper(field), name="gin_trgm_ops"), name=name),
                    )
                    for name, field in TRIGRAM_INDEXES.items()
                ),
            ],
        ),
    ]
