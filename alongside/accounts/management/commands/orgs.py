from django.core.management.base import BaseCommand
from django.db.models import Count, Q

from alongside.accounts.models import Organisation, Role


class Command(BaseCommand):
    help = "Platform operators: list organisations with their country and how many admins, staff and members."

    def handle(self, *args, **options):
        organisations = Organisation.objects.annotate(
            admins=Count("roles", filter=Q(roles__role=Role.ORG_ADMIN)),
            members=Count("roles", filter=Q(roles__role=Role.MEMBER)),
            staff=Count("roles__user", filter=~Q(roles__role=Role.MEMBER), distinct=True),
        ).order_by("name")
        self.stdout.write(f"{'slug':<24} {'name':<36} {'country':<7} {'admins':>6} {'staff':>6} {'members':>7}")
        for org in organisations:
            self.stdout.write(
                f"{org.slug:<24} {org.name[:36]:<36} {org.country:<7} {org.admins:>6} {org.staff:>6} {org.members:>7}"
            )
        if not organisations:
            self.stdout.write(
                "No organisations yet; create one with `alongside createorg NAME --country CC --admin EMAIL`."
            )
