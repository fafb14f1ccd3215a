import pytest
import redis
from django.conf import settings

from accounts.roles import Role
from tests.factories import user_with_role


@pytest.fixture(scope="session", autouse=True)
def _clean_test_redis():
    """The tests own their Redis database (settings.test): start each run from an empty one."""
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
