"""On PostgreSQL the database itself protects the audit log and the application history: no UPDATE ever;
no DELETE of audit records younger than 180 days, none of the history at all (TRUNCATE, used only by test
teardown, is not affected)."""

from django.db import migrations

PROTECT = """
CREATE OR REPLACE FUNCTION portal_protect_audit() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit records cannot be changed';
    END IF;
    IF OLD.created_at > now() - interval '180 days' THEN
        RAISE EXCEPTION 'audit records younger than 180 days cannot be deleted';
    END IF;
    RETURN OLD;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS accounts_auditevent_protect ON accounts_auditevent;
CREATE TRIGGER accounts_auditevent_protect BEFORE UPDATE OR DELETE ON accounts_auditevent
    FOR EACH ROW EXECUTE FUNCTION portal_protect_audit();

CREATE OR REPLACE FUNCTION portal_protect_history() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the application history is append-only';
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS applications_applicationevent_protect ON applications_applicationevent;
CREATE TRIGGER applications_applicationevent_protect BEFORE UPDATE OR DELETE ON applications_applicationevent
    FOR EACH ROW EXECUTE FUNCTION portal_protect_history();
"""

UNPROTECT = """
DROP TRIGGER IF EXISTS accounts_auditevent_protect ON accounts_auditevent;
DROP TRIGGER IF EXISTS applications_applicationevent_protect ON applications_applicationevent;
DROP FUNCTION IF EXISTS portal_protect_audit();
DROP FUNCTION IF EXISTS portal_protect_history();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PROTECT)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNPROTECT)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0007_security"), ("applications", "0006_event_internal")]
    operations = [migrations.RunPython(forwards, backwards)]
