"""The demo's configuration: teams, people, services, categories and routing rules.

Every row is looked up by its natural key before it is created, so running this on a database
that already holds some of it (an `admin` made by hand, say) completes it instead of failing.
"""

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db.models import Value
from django.db.models.functions import Concat

from incidents.choices import SlaKind
from incidents.models import Category, RoutingRule, SlaPolicy
from incidents.sla.policies import BEGINNING, policy_save
from itsm import clock
from itsm.calendars import OFFICE_HOURS, holidays_generate
from itsm.choices import Role
from itsm.demo import catalog
from itsm.models import BusinessCalendar, DeskSettings, Service, Team, User


@dataclass
class Cast:
    """The demo's rows by name, for the code that writes incidents."""

    teams: dict[str, Team]
    users: dict[str, User]
    services: dict[str, Service]
    categories: dict[tuple[str, str | None], Category]  # (category, subcategory or None)

    def members(self, team: Team) -> list[User]:
        return [u for spec in catalog.USERS if team.name in spec.teams
                for u in [self.users[spec.username]]]

    @property
    def requesters(self) -> list[User]:
        return [self.users[s.username] for s in catalog.USERS if s.role == Role.REQUESTER]

    @property
    def monitoring(self) -> User:
        return self.users[catalog.MONITORING_USER.username]


def demo_loaded() -> bool:
    return Team.objects.filter(name=catalog.MARKER_TEAM).exists()


def load_cast() -> Cast:
    """The demo rows of a database where `seed_reference` has run."""
    usernames = [s.username for s in (*catalog.USERS, catalog.MONITORING_USER)]
    categories = {}
    for c in Category.objects.select_related("parent"):
        key = (c.parent.name, c.name) if c.parent_id else (c.name, None)
        categories[key] = c
    return Cast(
        teams={t.name: t for t in Team.objects.select_related("next_tier")},
        users={u.username: u for u in User.objects.filter(username__in=usernames)},
        services={s.name: s for s in Service.objects.all()},
        categories=categories,
    )


def seed_reference() -> Cast:
    """Create (or complete) the demo organisation and return it."""
    users = _seed_users()
    teams = _seed_teams(users)
    services = {}
    for spec in catalog.SERVICES:
        services[spec.name], _ = Service.objects.get_or_create(name=spec.name, defaults={
            "criticality": spec.criticality, "owner_team": teams[spec.owner],
            "description": spec.description,
        })
    categories = _seed_categories()
    for rule in catalog.ROUTING:
        RoutingRule.objects.get_or_create(
            position=rule.position,
            category=categories[(rule.category, rule.subcategory)] if rule.category else None,
            service=services[rule.service] if rule.service else None,
            defaults={"team": teams[rule.team]},
        )
    # Everything no rule matches lands with the service desk, never in nobody's queue.
    DeskSettings.objects.update_or_create(pk=1, defaults={"default_team": teams["Service Desk"]})
    _seed_service_levels(teams)
    return load_cast()


# Internal targets (OLA) per team: (response, resolution) minutes on office hours.
DEMO_OLAS = {"Service Desk": (15, 2 * 60), "Network Operations": (30, 8 * 60),
             "Server & Storage": (30, 8 * 60), "Database Administration": (30, 8 * 60),
             "Applications Support": (60, 16 * 60)}


def _seed_service_levels(teams: dict[str, Team]) -> None:
    """OLAs for the teams that take escalations, and public holidays on office hours."""
    office = BusinessCalendar.objects.get(name=OFFICE_HOURS)
    for name, (response, resolution) in DEMO_OLAS.items():
        if not SlaPolicy.objects.filter(kind=SlaKind.OLA, team=teams[name]).exists():
            # Valid from the beginning, as the seeded SLAs: the history is backdated.
            policy_save(SlaPolicy(name=f"{name} OLA", kind=SlaKind.OLA, team=teams[name],
                                  position=50, response_minutes=response,
                                  response_calendar=office, resolution_minutes=resolution,
                                  resolution_calendar=office), at=BEGINNING)
    this_year = clock.now().year
    for year in (this_year - 1, this_year, this_year + 1):
        holidays_generate(office, country="GB", subdivision="ENG", year=year)


def add_new_users() -> None:
    """Users the catalogue gained since the demo was loaded (e.g. the problem manager)."""
    _seed_users()
    give_addresses()


def _seed_users() -> dict[str, User]:
    groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
    fixed = {login: password for login, password, _ in catalog.LOGINS}
    # Hashing is deliberately slow: hash each distinct password once, not once per user.
    hashes = {pw: make_password(pw) for pw in {*fixed.values(), catalog.DEMO_PASSWORD}}
    users = {}
    for spec in (*catalog.USERS, catalog.MONITORING_USER):
        if spec is catalog.MONITORING_USER:
            password = make_password(None)  # unusable: alerts only, no login
        else:
            password = hashes[fixed.get(spec.username, catalog.DEMO_PASSWORD)]
        is_admin = spec.role == Role.ADMIN
        # No e-mail address yet: the backdated history must not send a storm of mail;
        # `seed_demo` fills the addresses in once the history is written.
        user, created = User.objects.get_or_create(username=spec.username, defaults={
            "first_name": spec.first_name, "last_name": spec.last_name, "password": password,
            "is_staff": is_admin, "is_superuser": is_admin,
        })
        if created:
            user.groups.add(groups[spec.role])
        users[spec.username] = user
    return users


def _seed_teams(users: dict[str, User]) -> dict[str, Team]:
    teams = {}
    for spec in catalog.TEAMS:
        teams[spec.name], _ = Team.objects.get_or_create(name=spec.name, defaults={
            "tier": spec.tier, "manager": users[spec.manager],
            "email": f"{spec.name.lower().replace(' & ', '-').replace(' ', '-')}@example.com",
        })
    for spec in catalog.TEAMS:
        if spec.next_tier and teams[spec.name].next_tier_id is None:
            teams[spec.name].next_tier = teams[spec.next_tier]
            teams[spec.name].save(update_fields=["next_tier"])
    for spec in catalog.USERS:
        for name in spec.teams:
            teams[name].members.add(users[spec.username])
    return teams


def _seed_categories() -> dict[tuple[str, str | None], Category]:
    categories = {}
    for scenario in catalog.SCENARIOS:
        parent = categories.get((scenario.category, None))
        if parent is None:
            parent, _ = Category.objects.get_or_create(name=scenario.category, parent=None)
            categories[(scenario.category, None)] = parent
        categories[(scenario.category, scenario.subcategory)], _ = (
            Category.objects.get_or_create(name=scenario.subcategory, parent=parent)
        )
    return categories


def give_addresses() -> int:
    """Give demo users without an e-mail address one at example.com (after the history)."""
    usernames = [s.username for s in catalog.USERS]
    return User.objects.filter(username__in=usernames, email="").update(
        email=Concat("username", Value("@example.com"))
    )
