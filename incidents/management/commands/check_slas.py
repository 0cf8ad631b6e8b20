from django.core.management.base import BaseCommand

from incidents.models import Incident
from incidents.sla.services import clocks_sweep, clocks_verify


class Command(BaseCommand):
    help = ("Run one SLA sweep (what the beat job runs every 30 s), or --verify that the stored "
            "clocks equal the replay of each incident's timeline.")

    def add_arguments(self, parser):
        parser.add_argument("--verify", action="store_true",
                            help="Compare stored clocks with their replay (open incidents).")
        parser.add_argument("--all", action="store_true",
                            help="With --verify: every incident, not only the open ones.")
        parser.add_argument("--repair", action="store_true",
                            help="With --verify: rewrite differing clocks from the replay.")

    def handle(self, *args, verify, all, repair, **options):
        if not verify:
            result = clocks_sweep()
            self.stdout.write(f"Checked {result.checked} clocks: {result.warned} warnings, "
                              f"{result.breached} breaches, in {result.seconds:.2f} s "
                              f"(oldest threshold {result.lag.total_seconds():.0f} s late).")
            return
        incidents = Incident.objects.all() if all else None
        differences = clocks_verify(incidents=incidents, repair=repair)
        for difference in differences:
            self.stdout.write(f"{difference.incident.number}: stored {len(difference.stored)} "
                              f"clocks differ from the replay of its timeline")
            for stored, replayed in zip(difference.stored, difference.replayed, strict=False):
                if stored != replayed:
                    self.stdout.write(f"  stored   {stored}\n  replayed {replayed}")
        verdict = "repaired" if repair else "found"
        self.stdout.write(f"{len(differences)} incident(s) with differing clocks {verdict}.")
        if differences and not repair:
            raise SystemExit(1)
