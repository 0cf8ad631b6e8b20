from django.core.management.base import BaseCommand, CommandError

from itsm import services
from itsm.models import User


class Command(BaseCommand):
    help = ("Make (or replace) a user's API token and print its key: the only time it is shown, "
            "as only its hash is stored. The old key stops working at once.")

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        _, key = services.user_create_api_token(user=user)
        self.stdout.write(key)
