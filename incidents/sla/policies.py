"""Which targets an incident gets: the policy versions valid at an instant, first match wins.

A policy is edited in the admin; `policy_save` snapshots every change as a new version valid
from that instant, so a running clock keeps the targets it started with and a replay of old
events matches exactly what was matched then.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction

from itsm import clock

# Versions seeded by migration count from here, so demo history made at past instants matches.
BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)
TERM_FIELDS = ("name", "kind", "position", "active", "priority", "service_id", "category_id",
               "team_id", "response_minutes", "response_calendar_id", "resolution_minutes",
               "resolution_calendar_id", "pause_states", "warn_percents")


def policy_terms(policy) -> dict:
    """The fields that decide matching and targets, as JSON (also for historical models)."""
    terms = {name: getattr(policy, name) for name in TERM_FIELDS}
    terms["pause_states"] = sorted(str(s) for s in terms["pause_states"] or [])
    terms["warn_percents"] = sorted(int(p) for p in terms["warn_percents"] or [])
    terms["kind"] = str(terms["kind"])
    return terms


@dataclass(frozen=True)
class Target:
    """One target of one policy version: `minutes` of business time on `calendar_id`."""

    version_id: int
    target: str  # SlaTarget
    minutes: int
    calendar_id: int
    pause_states: tuple[str, ...]
    warn_percents: tuple[int, ...]
    label: str  # "P1 critical v2", for the ledger


def targets_of(version) -> list[Target]:
    terms = version.terms
    label = f"{terms['name']} v{version.number}"
    return [Target(version.pk, target, terms[f"{target}_minutes"],
                   terms[f"{target}_calendar_id"], tuple(terms["pause_states"]),
                   tuple(terms["warn_percents"]), label)
            for target in ("response", "resolution")
            if terms[f"{target}_minutes"] and terms[f"{target}_calendar_id"]]


class PolicyBook:
    """Every policy version, loaded once (a handful of rows); matching happens in memory."""

    def __init__(self):
        from incidents.models import SlaPolicyVersion

        self.versions = list(SlaPolicyVersion.objects.all())

    def match(self, at: datetime, kind: str, *, priority, service_id, category_id, team_id):
        """The first active version valid at `at` whose conditions all hold, or None."""
        facts = {"priority": priority, "service_id": service_id, "category_id": category_id,
                 "team_id": team_id}
        valid = [v for v in self.versions
                 if v.valid_from <= at and (v.valid_until is None or at < v.valid_until)
                 and v.terms["kind"] == kind and v.terms["active"]]
        valid.sort(key=lambda v: (v.terms["position"], v.policy_id))
        for version in valid:
            if all(version.terms[name] in (None, value) for name, value in facts.items()):
                return version
        return None


@transaction.atomic
def policy_save(policy, *, at: datetime | None = None):
    """Save a policy; a change of its terms starts a new version valid from now."""
    from incidents.models import SlaPolicy, SlaPolicyVersion

    at = at or clock.now()
    policy.save()
    policy = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    current = policy.versions.filter(valid_until=None).order_by("-number").first()
    terms = policy_terms(policy)
    if current is not None and current.terms == terms:
        return policy
    if current is not None:
        current.valid_until = at
        current.save(update_fields=["valid_until"])
    policy.version = (current.number if current else 0) + 1
    policy.save(update_fields=["version"])
    SlaPolicyVersion.objects.create(policy=policy, number=policy.version, valid_from=at,
                                    terms=terms)
    return policy


def seed_versions(apps, policies) -> None:
    """Version 1 of seeded policies, valid from the beginning (migration and post_migrate)."""
    SlaPolicyVersion = apps.get_model("incidents", "SlaPolicyVersion")
    for policy in policies:
        policy.version = 1
        policy.save(update_fields=["version"])
        SlaPolicyVersion.objects.create(policy=policy, number=1, valid_from=BEGINNING,
                                        terms=policy_terms(policy))
