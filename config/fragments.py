"""Cached fragments of signed-in pages that many people read and that change only with the data behind them.

A fragment's key holds its name, its parameters, the language and the current version of each *scope* it
reads. Saving or deleting a model of a scope bumps the scope's version when the transaction commits (and
at once if the same thread has read that version meanwhile), so the next request renders afresh. A
version that the cache lost starts again from the clock, never from a number an older fragment may still
carry. The timeout bounds what no signal reports (text derived from the time of day).

Only what is the same for everyone allowed to see the page goes into a fragment: the view checks the
permission first and keeps per-person parts (buttons that depend on the person's rights, CSRF tokens)
outside. If Redis is unreachable the fragment is simply rendered.
"""

import logging
import time
from hashlib import sha256

from django.apps import apps
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from applications import stages
from config.after_commit import ReadHere, invalidate

log = logging.getLogger(__name__)

# Scope -> the models whose changes it follows (app_label.ModelName).
SCOPES = {
    # Lists of applications (the workbench): the rows and the names they show.
    "applications": (
        "applications.Application",
        "applications.Field",
        "accounts.Organisation",
        "accounts.District",
    ),
    # What the review pages read: an application's contents, history, panels and sheets.
    "review": (
        "applications.Application",
        "applications.ApplicationEvent",
        "applications.MemberUnit",
        "applications.CommitteeMember",
        "applications.ExpectedOutcome",
        "applications.Attachment",
        "applications.DistrictOpinion",
        "applications.Field",
        "applications.Policy",
        "accounts.Organisation",
        "accounts.District",
        "centres.Centre",
        # and each review stage's own records (applications.stages: panels, sheets, the inspection ...)
        *(label for stage in stages.STAGES for label in stage.models),
    ),
    # The public announcement list and centre directory (config.public_cache): anonymous, whole pages.
    "public": (
        "evaluation.Announcement",
        "evaluation.AnnouncementEntry",
        "centres.Centre",
        "applications.Field",
        "accounts.Organisation",
    ),
    # The programme dashboard's figures.
    "programme": (
        "applications.Application",
        "applications.ApplicationEvent",
        "applications.Field",
        "centres.Centre",
        "evaluation.Panel",
        "evaluation.Assignment",
        "evaluation.Objection",
        "reports.AnnualSummary",
        "reports.Assessment",
        "reports.ProgrammeTarget",
        "reports.ReportingYear",
        "reports.SupportGrant",
    ),
}


def _version_key(scope: str) -> str:
    return f"data-version:{scope}"


def _fresh() -> int:
    return time.time_ns() // 1000


def _incr(scope: str) -> None:
    try:
        try:
            cache.incr(_version_key(scope))
        except ValueError:  # lost or never set
            cache.set(_version_key(scope), _fresh(), None)
    except Exception as error:  # Redis unreachable: nothing is being cached either
        log.warning("fragment scope %s not bumped: %s", scope, error)


def _incr_all(scopes) -> None:
    """The bumps after a commit, in one round trip to Redis (SET NX first: a lost version restarts from
    the clock). Without Redis (local memory in development) one by one."""
    try:
        client = cache._cache.get_client(write=True)
    except AttributeError:
        for scope in scopes:
            _incr(scope)
        return
    try:
        pipe = client.pipeline(transaction=False)
        fresh = _fresh()
        for scope in scopes:
            key = cache.make_and_validate_key(_version_key(scope))
            pipe.set(key, fresh, nx=True)
            pipe.incr(key)
        pipe.execute()
    except Exception as error:  # Redis unreachable: nothing is being cached either
        log.warning("fragment scopes %s not bumped: %s", sorted(scopes), error)


_read_here = ReadHere()  # the scopes whose version this thread has read since it last bumped them


def bump(scope: str) -> None:
    """Outside a transaction: now. Inside one: when it commits, gathered with the transaction's other
    bumps (a transaction that saves a thousand rows bumps each scope once, not a thousand times), and now
    as well if this thread has read the scope meanwhile (config.after_commit.invalidate)."""
    invalidate("fragment-scopes", scope, _incr_all, _read_here)


def changed(*models) -> None:
    """What the signals would have done for rows of ``models`` written in bulk (no signals are sent)."""
    labels = {model._meta.label for model in models}
    for scope, followed in SCOPES.items():
        if labels & set(followed):
            bump(scope)


def versions(scopes) -> tuple:
    _read_here.items.update(scopes)
    keys = [_version_key(s) for s in scopes]
    found = cache.get_many(keys)
    missing = {key: _fresh() for key in keys if key not in found}
    if missing:
        cache.set_many(missing, None)
        found.update(missing)
    return tuple(found[key] for key in keys)


def cached(name: str, params, scopes, render, timeout: int = 300) -> SafeString:
    """The HTML ``render()`` returns, from the cache while no scope has changed."""
    try:
        raw = repr((name, params, translation.get_language(), versions(scopes)))
        key = "fragment:" + sha256(raw.encode()).hexdigest()
        html = cache.get(key)
    except Exception as error:
        log.warning("fragment cache unavailable: %s", error)
        return render()
    if html is None:
        html = str(render())
        try:
            cache.set(key, html, timeout)
        except Exception as error:
            log.warning("fragment not cached: %s", error)
    return mark_safe(html)


def page(request, title, name: str, params, scopes, template: str, context, timeout: int = 300):
    """A page whose content is the fragment ``template`` rendered with ``context()`` (called on a miss
    only, so its queries run only then), inside the portal's frame (``fragment_page.html``)."""
    body = cached(
        name,
        params,
        scopes,
        lambda: render_to_string(template, {"page_title": title, **context()}, request),
        timeout,
    )
    return render(request, "fragment_page.html", {"page_title": title, "body": body})


def _receiver(scope):
    def changed(sender, **kwargs):
        if not kwargs.get("raw"):
            bump(scope)

    return changed


def connect() -> None:
    for scope, labels in SCOPES.items():
        receiver = _receiver(scope)
        for label in labels:
            model = apps.get_model(label)
            uid = f"fragments-{scope}-{label}"
            post_save.connect(receiver, sender=model, weak=False, dispatch_uid=uid)
            post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=uid + "-delete")
