import pytest
import redis
from django.conf import settings

from accounts.roles import Role
from tests.factories import user_with_role


@pytest.fixture(autouse=True)
def _clean_test_redis():
    """The tests own their Redis database (settings.test): each starts from an empty one, so no cached
    fragment, count or session of an earlier test (whose rows were rolled back) is served to it."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture
def role_user(db):
    """Factory fixture: ``role_user(Role.EXPERT)`` gives a fresh user holding that role."""
    return user_with_role


@pytest.fixture
def users_by_role(db):
    return {role: user_with_role(role) for role in Role}


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded files of each test go to its own temporary folder, never into the project tree."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _chinese_after_each_test():
    """A test that switches to English through a request leaves the language active in this thread (the
    locale middleware does not reset it): put the default back so the next test starts in Chinese."""
    yield
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
