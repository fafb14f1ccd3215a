from django.core.management.base import BaseCommand

from accounts import demo as accounts_demo
from applications import demo as applications_demo
from evaluation import demo as evaluation_demo
from evaluation import join_demo
from reports import demo as reports_demo


class Command(BaseCommand):
    help = "Create or refresh the demo data: one sign-in per role (idempotent)."

    def handle(self, *args, **options):
        users = accounts_demo.seed()
        # Each step is dated as if taken on a suitable past day (config.clock); the review stages first, so
        # the lead unit's plan submitted today gets the latest number.
        evaluation_demo.seed(users)
        applications_demo.seed(users)
        reports_demo.seed(users)
        join_demo.seed(users)  # a registration for district_demo and an expert application for staff_demo
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready. Password for every demo account: {accounts_demo.DEMO_PASSWORD}"
            )
        )
        for role, user in users.items():
            self.stdout.write(f"  {role.label:<16} {user.username}")
