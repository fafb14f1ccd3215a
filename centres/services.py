"""Creating a centre. Called by the review (evaluation.workflow.award), higher in the import chain."""

from applications.models import Application, Outcome, Policy
from centres.models import Centre


def create_centre(
    application: Application, user, *, approval_number, approval_date, plaque_number, award_date
):
    policy = application.policy or Policy.current()
    return Centre.objects.create(
        application=application,
        name=application.centre_name,
        field=application.field,
        lead_unit=application.lead_unit,
        kind=Centre.Kind.PILOT if application.outcome == Outcome.PILOT else Centre.Kind.RECOGNISED,
        approval_number=approval_number,
        approval_date=approval_date,
        plaque_number=plaque_number,
        award_date=award_date,
        support_years=policy.support_years,
        created_by=user,
    )
