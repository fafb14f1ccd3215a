import factory
from django.contrib.auth.models import Group

from accounts.models import District, Organisation, User
from accounts.roles import Role
from accounts.validators import credit_code_check_character

TEST_PASSWORD = "Test#Passw0rd-2026"


def make_credit_code(n: int) -> str:
    first17 = f"915001{n:011d}"
    return first17 + credit_code_check_character(first17)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"重庆测试单位{n}有限公司")
    credit_code = factory.Sequence(make_credit_code)
    kind = Organisation.Kind.ENTERPRISE
    district = factory.LazyFunction(lambda: District.objects.get(code="500112"))
    address = "重庆市渝北区测试路 1 号"
    legal_representative = "测试法人"
    contact_name = "测试联系人"
    contact_phone = "023-60000000"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"测试用户{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=list(extracted)))


def user_with_role(role: Role, **kwargs) -> User:
    """A user holding one role, with the organisation or district that role needs."""
    if role == Role.LEAD_UNIT:
        kwargs.setdefault("organisation", OrganisationFactory())
    if role == Role.DISTRICT_STAFF:
        kwargs.setdefault("district", District.objects.get(code="500112"))
    return UserFactory(roles=[role], **kwargs)
