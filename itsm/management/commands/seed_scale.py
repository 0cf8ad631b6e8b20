import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from itsm.demo.reference import demo_loaded
from itsm.demo.scale import STATE_SHARES, seed_scale


class Command(BaseCommand):
    help = (
        "Add N realistic incidents fast, for benchmarks: rows are built in Python and streamed "
        "with PostgreSQL COPY in batches (one transaction each), numbered from "
        "incident_number_seq. States: "
        + ", ".join(f"{share}% {state}" for state, share in STATE_SHARES.items())
        + "; priorities skewed to P3/P4; spread over the demo's teams, agents, services and "
        "categories (seed_demo runs first if the demo is missing). Timestamps agree with each "
        "state. No timeline entries are written unless --timeline is given (the queue does not "
        "need them); every foreign key points at a real row either way. Indexes stay in place; "
        "VACUUM ANALYZE runs at the end."
    )

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, default=100_000,
                            help="How many incidents to add (default 100000).")
        parser.add_argument("--batch", type=int, default=50_000,
                            help="Rows per COPY and transaction (default 50000).")
        parser.add_argument("--callers", type=int, default=2_000,
                            help="Spread the incidents over at least this many requesters, "
                                 "creating the missing ones without passwords (default 2000).")
        parser.add_argument("--timeline", action="store_true",
                            help="Also write each incident's 'created' timeline entry.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed.")

    def handle(self, *args, incidents, batch, callers, timeline, seed, **options):
        if incidents < 1 or batch < 1:
            raise CommandError("--incidents and --batch must be at least 1.")
        if not demo_loaded():
            self.stdout.write("The demo organisation is missing: running seed_demo first.")
            call_command("seed_demo", stdout=self.stdout)

        def progress(done, seconds):
            self.stdout.write(f"  {done:>10,} incidents  {seconds:7.1f} s  "
                              f"{done / max(seconds, 1e-9):,.0f}/s")

        started = time.monotonic()
        done = seed_scale(count=incidents, batch=batch, callers=callers, timeline=timeline,
                          seed=seed, progress=progress)
        seconds = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(
            f"Added {done:,} incidents in {seconds:.1f} s ({done / seconds:,.0f} per second, "
            "VACUUM ANALYZE included)."))
