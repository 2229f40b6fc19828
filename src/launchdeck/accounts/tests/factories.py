import factory
from django.contrib.auth.hashers import make_password

from launchdeck.accounts.models import ApiToken, RoleAssignment, User

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    """A user; `roles=[...]` assigns roles (default none)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.LazyFunction(lambda: make_password(PASSWORD))

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or ():
            RoleAssignment.objects.create(user=self, role=role)
        if extracted and "admin" in extracted:
            User.objects.filter(pk=self.pk).update(is_staff=True)
            self.is_staff = True
        self.__dict__.pop("roles", None)


class ApiTokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = "test token"
    prefix = factory.Sequence(lambda n: f"ld_{n:07d}")
    digest = factory.Sequence(lambda n: f"{n:064x}")
