"""Factories of core's models, shared by every app's tests.

- `CentreFactory(code=...)` — a certification centre (get or create by code).
- `UserFactory`, `StaffFactory(centres=[centre])` — users are created with the demo password (see
  tests/conftest.py `password` fixture).
"""

import factory

from core.demo import DEMO_PASSWORD
from core.models import CertificationCentre, Role, User


class CentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CertificationCentre
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"C{n + 1}")
    name = factory.LazyAttribute(lambda o: f"UIMM Centre {o.code}")
    legal_name = factory.LazyAttribute(lambda o: f"UIMM {o.code}")
    city = "Nancy"
    postcode = "54000"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n + 1}")
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"Utilisateur{n + 1}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@test.cqpm.local")
    role = Role.STAFF
    password = factory.PostGenerationMethodCall("set_password", DEMO_PASSWORD)

    @factory.post_generation
    def centres(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.centres.set(extracted)
        if create:
            obj.save()


class StaffFactory(UserFactory):
    role = Role.STAFF
