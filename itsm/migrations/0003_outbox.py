"""The notification table becomes the outbox: idempotency key, channel, address, status, attempts,
claim and due time. Existing rows keep their history: sent ones stay sent, the rest wait."""

import django.db.models.deletion
import itsm.clock
from django.conf import settings
from django.db import migrations, models

FILL = """
UPDATE itsm_notification n
   SET key = 'legacy:' || n.id || ':' || coalesce(n.recipient_id::text, '') || ':email',
       address = coalesce(u.email, ''),
       status = CASE WHEN n.sent_at IS NULL THEN 'pending' ELSE 'sent' END,
       due_at = n.created_at
  FROM itsm_user u
 WHERE u.id = n.recipient_id
"""


class Migration(migrations.Migration):

    dependencies = [
        ("itsm", "0002_roles"),
    ]

    operations = [
        migrations.RenameField("notification", "error", "last_error"),
        migrations.RemoveIndex("notification", "notification_unsent"),
        migrations.AddField("notification", "key", models.CharField(
            max_length=200, null=True, help_text="event:recipient:channel")),
        migrations.AddField("notification", "channel", models.CharField(
            max_length=20, choices=[("email", "E-mail")], default="email")),
        migrations.AddField("notification", "address", models.CharField(
            max_length=500, default="", help_text="Where it goes, as it was when written."),
            preserve_default=False),
        migrations.AddField("notification", "status", models.CharField(
            max_length=10, default="pending",
            choices=[("pending", "Pending"), ("sending", "Sending"), ("sent", "Sent"),
                     ("failed", "Failed")])),
        migrations.AddField("notification", "attempts",
                            models.PositiveSmallIntegerField(default=0)),
        migrations.AddField("notification", "due_at", models.DateTimeField(
            default=itsm.clock.now, help_text="Next attempt not before.")),
        migrations.AddField("notification", "claimed_at",
                            models.DateTimeField(blank=True, null=True)),
        migrations.AddField("notification", "claim",
                            models.UUIDField(blank=True, editable=False, null=True)),
        migrations.AlterField("notification", "created_at",
                              models.DateTimeField(default=itsm.clock.now)),
        migrations.AlterField("notification", "recipient", models.ForeignKey(
            blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
            related_name="notifications", to=settings.AUTH_USER_MODEL)),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.AlterField("notification", "key", models.CharField(
            max_length=200, unique=True, help_text="event:recipient:channel")),
        migrations.AddIndex("notification", models.Index(
            condition=models.Q(("status__in", ["pending", "sending"])), fields=["due_at"],
            name="notification_undelivered")),
    ]
