"""DRF's plain-text tokens move to itsm.ApiToken as hashes, and the plain keys are deleted.

Scripts keep working with the key they have (the hash of it is what is looked up now); the
key just cannot be read back from the database any more.
"""

import hashlib

from django.db import migrations


def hash_tokens(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("itsm", "ApiToken")
    for token in Token.objects.all():
        ApiToken.objects.create(
            user_id=token.user_id, key_hash=hashlib.sha256(token.key.encode()).hexdigest(),
            prefix=token.key[:8], created_at=token.created,
        )
    Token.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("itsm", "0004_timezone_field_and_api_token"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]
    # Backwards there is no key to restore: people make new tokens.
    operations = [migrations.RunPython(hash_tokens, migrations.RunPython.noop)]
