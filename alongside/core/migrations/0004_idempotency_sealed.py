import json

from django.db import migrations, models

from alongside.core import crypto


def seal_stored_answers(apps, schema_editor):
    """Answers stored before were plain JSON; each becomes its encrypted text."""
    records = apps.get_model("core", "IdempotencyRecord").objects.using(schema_editor.connection.alias)
    for record in records.iterator():
        if not isinstance(record.body, str):
            record.body = crypto.encrypt(json.dumps(record.body, separators=(",", ":")))
            record.save(update_fields=["body"])


class Migration(migrations.Migration):
    dependencies = [("core", "0003_idempotencyrecord")]

    operations = [
        migrations.AddField(
            model_name="idempotencyrecord",
            name="created_id",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(seal_stored_answers, migrations.RunPython.noop, elidable=True),
    ]
