import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from alongside.core.indexes import drop_own_index


class Migration(migrations.Migration):
    # The person's own index goes: the unique constraint on the person and the key begins with the person.
    dependencies = [
        ("core", "0004_idempotency_sealed"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        drop_own_index(
            "core",
            "IdempotencyRecord",
            "user",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        )
    ]
