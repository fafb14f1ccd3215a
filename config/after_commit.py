"""Work gathered per transaction and done once when it commits.

A step that saves many rows (the deadline sweep, opening a reporting year) would otherwise queue one
callback per row for the same small piece of work. ``gather(kind, item, action)`` adds ``item`` to the set
of the transaction's pending callback of that kind (found in the connection's list of callbacks, which a
rollback empties) and, when the transaction commits, calls ``action(items)`` once. Outside a transaction
``action({item})`` runs at once.

``invalidate`` builds on it for cached reads (fragment versions, the unread badge): the cache is cleared
after the commit, and also at once if this thread has read the entry since it last cleared it, because it
may read it again before committing, from its own uncommitted rows (other connections do not see those
rows until the commit).
"""

import threading

from django.db import transaction


class Gathered:
    def __init__(self, kind: str, action):
        self.kind = kind
        self.action = action
        self.items: set = set()

    def __call__(self):
        self.action(self.items)


def gather(kind: str, item, action) -> None:
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        action({item})
        return
    pending = next(
        (f for _ids, f, _robust in connection.run_on_commit if isinstance(f, Gathered) and f.kind == kind),
        None,
    )
    if pending is None:
        pending = Gathered(kind, action)
        transaction.on_commit(pending)
    pending.items.add(item)


class ReadHere(threading.local):
    """The cache entries of one kind that this thread has read since it last invalidated them."""

    def __init__(self):
        self.items: set = set()


def invalidate(kind: str, item, action, read: ReadHere) -> None:
    """``action({item})`` now if outside a transaction or if ``item`` was read here meanwhile; inside a
    transaction, once more (gathered) when it commits."""
    if not transaction.get_connection().in_atomic_block:
        action({item})
        return
    if item in read.items:
        read.items.discard(item)
        action({item})
    gather(kind, item, action)
