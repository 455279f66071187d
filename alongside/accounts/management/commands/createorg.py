from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from alongside.accounts import actions, invitations
from alongside.accounts.models import Role
from alongside.core import crisis


class Command(BaseCommand):
    help = "Platform operators: create an organisation and invite its first admin (the link is e-mailed and printed)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the organisation's name, e.g. 'Riverside Recovery Collective'")
        parser.add_argument("--country", required=True, help="two-letter country code; sets the crisis-line defaults")
        parser.add_argument("--admin", required=True, metavar="EMAIL", help="the first org admin's e-mail address")
        parser.add_argument("--time-zone", default="UTC", help="e.g. America/New_York (default UTC)")

    @transaction.atomic
    def handle(self, *args, name, country, admin, time_zone, **options):
        if country.upper() not in crisis.COUNTRIES:
            known = ", ".join(sorted(crisis.COUNTRIES))
            raise CommandError(f"no crisis-line defaults for country {country!r}; use one of {known}")
        try:
            organisation = actions.create_organisation(name.strip(), country, time_zone=time_zone)
            link = invitations.invite(by=None, organisation=organisation, email=admin, role=Role.ORG_ADMIN)
        except ValidationError as error:
            problems = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
            raise CommandError(problems) from None
        self.stdout.write(f"Created {organisation.name} ({organisation.slug}), {organisation.country}, {time_zone}.")
        self.stdout.write(f"Invitation for {link.invitation.email} (org admin), valid for 7 days:")
        self.stdout.write(f"  {link.url}")
