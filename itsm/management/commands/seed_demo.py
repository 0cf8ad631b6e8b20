import time

from django.core.management.base import BaseCommand

from itsm.demo import logins_text, seed_demo


class Command(BaseCommand):
    help = ("Load a realistic demo desk once: teams L1–L3, people and their logins, services, "
            "categories, routing rules and a few hundred incidents with 30 days of history, all "
            "written through the incident services. Does nothing if the demo is already there.")

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, default=300,
                            help="How many incidents to create (default 300).")
        parser.add_argument("--seed", type=int, default=1,
                            help="Random seed: the same seed tells the same stories.")

    def handle(self, *args, incidents, seed, **options):
        started = time.monotonic()
        if seed_demo(incidents=incidents, seed=seed):
            self.stdout.write(self.style.SUCCESS(
                f"Demo data loaded: {incidents} incidents in {time.monotonic() - started:.1f} s."))
        else:
            self.stdout.write("Demo data already loaded; nothing to do.")
        self.stdout.write(f"Demo logins:\n{logins_text()}")
