"""factory_boy factories; incidents reach later states by walking real transitions."""

import factory
from django.contrib.auth.models import Group

from incidents import actions, services
from incidents.choices import Level, ResolutionCode
from incidents.models import Category
from itsm.choices import Role
from itsm.models import Service, Team, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw")
    role = None

    @classmethod
    def _create(cls, model_class, *args, role=None, **kwargs):
        user = super()._create(model_class, *args, **kwargs)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user


class AgentFactory(UserFactory):
    role = Role.AGENT


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if extracted:
            self.members.add(*extracted)


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Service {n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")


def make_incident(*, by, state="new", title="Mail is down for the finance floor", **fields):
    """Create an incident through the service and walk it to `state` as `by`."""
    fields.setdefault("impact", Level.MEDIUM)
    fields.setdefault("urgency", Level.MEDIUM)
    incident = services.incident_create(by=by, title=title, **fields)
    steps = {
        "new": [],
        "in_progress": ["acknowledge"],
        "on_hold": ["acknowledge", "hold"],
        "resolved": ["acknowledge", "resolve"],
        "closed": ["acknowledge", "resolve", "close"],
        "canceled": ["cancel"],
    }[state]
    params = {
        "hold": {"reason": "awaiting_caller"},
        "resolve": {"code": ResolutionCode.FIXED, "notes": "Restarted the mail relay."},
        "cancel": {"reason": "Logged twice."},
    }
    for step in steps:
        incident = actions.TRANSITIONS[step](incident=incident, by=by, **params.get(step, {}))
    return incident
