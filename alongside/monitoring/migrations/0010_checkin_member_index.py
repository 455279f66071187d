import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from alongside.core.indexes import drop_own_index


class Migration(migrations.Migration):
    # The member's own index goes: checkin_member_time and checkin_member_day begin with the member.
    dependencies = [
        ("monitoring", "0009_checkin_intake_by_label"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        drop_own_index(
            "monitoring",
            "CheckIn",
            "member",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="checkins",
                to=settings.AUTH_USER_MODEL,
            ),
        )
    ]
