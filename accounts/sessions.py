"""Sessions read from Redis and written through to PostgreSQL, still working while Redis is down.

Django's ``cached_db`` store already survives a failed read and a failed save, but not a failed write after
reading from the database, an existence check or a delete: with Redis stopped every signed-in page would
fail. Here each of those falls back to the database alone (the session table stays the record).
A session deleted (sign-out) while Redis was unreachable may linger in a Redis that comes back with its
data; the idle timeout (``SESSION_COOKIE_AGE``) bounds it, and the portal's Redis keeps nothing on disk.
"""

import logging

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore

log = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:
            data = None
        if data is not None:
            return data
        session = self._get_session_from_db()
        if not session:
            return {}
        data = self.decode(session.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=session.expire_date))
        except Exception as error:
            log.warning("session not cached: %s", error)
        return data

    def exists(self, session_key):
        try:
            if session_key and (self.cache_key_prefix + session_key) in self._cache:
                return True
        except Exception as error:
            log.warning("session cache unavailable: %s", error)
        return DatabaseStore.exists(self, session_key)

    def delete(self, session_key=None):
        DatabaseStore.delete(self, session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception as error:
            log.warning("session not removed from the cache: %s", error)
