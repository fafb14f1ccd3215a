"""Append-only tables, protected by PostgreSQL itself (django-pgtrigger declares the triggers on the models
and installs them through migrations): whatever the code does, queryset ``update()``/``delete()`` or raw
SQL, the database refuses to change or remove a row. TRUNCATE (only the test teardown of browser tests uses
it) fires no row trigger. The tables are listed in docs/ARCHITECTURE.md."""

import pgtrigger


def append_only(what: str) -> list[pgtrigger.Trigger]:
    """No DELETE of any row and no UPDATE that changes one; ``what`` names the records in the error
    (English, for logs). An UPDATE writing back the same values changes nothing and passes: Django's test
    framework does that when it restores the migrations' rows (serialized rollback)."""
    if "'" in what:
        raise ValueError("no quotes in the name of the records")
    refuse = f"RAISE EXCEPTION '{what} is append-only: % refused on %', TG_OP, TG_TABLE_NAME;"
    return [
        pgtrigger.Trigger(
            name="append_only_update",
            when=pgtrigger.Before,
            operation=pgtrigger.Update,
            condition=pgtrigger.Condition("OLD.* IS DISTINCT FROM NEW.*"),
            func=refuse,
        ),
        pgtrigger.Trigger(
            name="append_only_delete", when=pgtrigger.Before, operation=pgtrigger.Delete, func=refuse
        ),
    ]


def audit_log_protection(retention_days: int = 180) -> list[pgtrigger.Trigger]:
    """The audit log: never changed; deleted only when older than the retention minimum (the purge)."""
    days = int(retention_days)
    return [
        pgtrigger.Trigger(
            name="audit_no_update",
            when=pgtrigger.Before,
            operation=pgtrigger.Update,
            func="RAISE EXCEPTION 'audit records cannot be changed';",
        ),
        pgtrigger.Trigger(
            name="audit_keep_recent",
            when=pgtrigger.Before,
            operation=pgtrigger.Delete,
            condition=pgtrigger.Condition(f"OLD.created_at > now() - interval '{days} days'"),
            func=f"RAISE EXCEPTION 'audit records younger than {days} days cannot be deleted';",
        ),
    ]
