"""User.time_zone becomes a django-timezone-field (its choices are no longer frozen here, so a
tzdata update needs no migration; the column, and "" for the site default, stay as they are),
and API keys get a table that keeps only their hash."""

import django.db.models.deletion
import itsm.clock
import timezone_field.fields
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('itsm', '0003_outbox'),
    ]

    operations = [
        migrations.AlterField(
            model_name='user',
            name='time_zone',
            field=timezone_field.fields.TimeZoneField(blank=True, help_text='Times are shown in this zone; empty = site default.', max_length=64),
        ),
        migrations.CreateModel(
            name='ApiToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key_hash', models.CharField(editable=False, max_length=64, unique=True)),
                ('prefix', models.CharField(editable=False, max_length=8)),
                ('created_at', models.DateTimeField(default=itsm.clock.now, editable=False)),
                ('last_used_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='api_token', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'API token',
                'ordering': ['-created_at'],
            },
        ),
    ]
