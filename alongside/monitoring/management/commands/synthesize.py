import re
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from alongside.accounts import actions
from alongside.accounts.models import Organisation, Role, User
from alongside.monitoring import synthetic
from alongside.programs import actions as program_actions
from alongside.programs.models import Program

FIRST_NAMES = (
    "Alex",
    "Blake",
    "Cameron",
    "Dakota",
    "Eli",
    "Frankie",
    "Gray",
    "Harper",
    "Indy",
    "Jesse",
    "Kai",
    "Logan",
    "Marley",
    "Noor",
    "Oakley",
    "Parker",
    "Quinn",
    "Reese",
    "Sage",
    "Tatum",
    "Umi",
    "Val",
    "Wren",
    "Yael",
    "Zion",
)
INITIALS = "ABCDEFGHJKLMNPRSTVWZ"


def display_name(number: int) -> str:
    """A pseudonym: first names cycle, and the initial changes each time they come round."""
    first = FIRST_NAMES[(number - 1) % len(FIRST_NAMES)]
    initial = INITIALS[((number - 1) // len(FIRST_NAMES)) % len(INITIALS)]
    return f"{first} {initial}."


class Command(BaseCommand):
    help = (
        "Create synthetic members in an organisation and load generated check-ins, questionnaires and ground truth "
        "for them (for evaluating early warning and for load testing; never in a real organisation)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organisation", required=True, metavar="SLUG", help="the organisation's short name")
        parser.add_argument("--members", type=int, required=True, metavar="N", help="how many members to create")
        parser.add_argument("--days", type=int, required=True, metavar="D", help="days of data, ending yesterday")
        parser.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default 1)")
        parser.add_argument("--program", metavar="NAME", help="enrol the members in this program, discharged on day 0")

    def handle(self, *args, organisation, members, days, seed, program, **options):
        if members < 1 or days < 1:
            raise CommandError("--members and --days must be at least 1")
        org = Organisation.objects.filter(slug=organisation).first()
        if org is None:
            raise CommandError(f"there is no organisation {organisation!r}; `alongside orgs` lists them")
        chosen = None
        admin = None
        if program:
            chosen = Program.objects.filter(organisation=org, name__iexact=program.strip()).first()
            if chosen is None:
                names = ", ".join(Program.objects.filter(organisation=org).values_list("name", flat=True)) or "none"
                raise CommandError(f"{org.name} has no program {program!r} (its programs: {names})")
            if chosen.archived_at:
                raise CommandError(f"the program {chosen.name!r} is archived")
            grant = org.roles.filter(role=Role.ORG_ADMIN).order_by("pk").select_related("user").first()
            if grant is None:
                raise CommandError(f"{org.name} has no org admin to enrol the members; invite one first")
            admin = grant.user

        bar_out = getattr(self.stdout, "_out", self.stdout)
        quiet = not self.stdout.isatty()
        # Yesterday is the last day, so no check-in lies in the future.
        start_date = timezone.localdate(timezone=ZoneInfo(org.time_zone)) - timedelta(days=days)
        started = time.perf_counter()
        with tqdm(total=members, desc="accounts", unit="", file=bar_out, disable=quiet) as bar:
            people = self._create_members(org, members, chosen, admin, start_date, bar)
        made = time.perf_counter()
        cohort = synthetic.generate(members, days, seed=seed, start_date=start_date, time_zone=org.time_zone)
        generated = time.perf_counter()
        rows = len(cohort.checkins) + len(cohort.responses)
        with tqdm(total=rows, desc="data", unit=" rows", file=bar_out, disable=quiet) as bar:

            def progress(done: int, total: int) -> None:
                bar.update(done - bar.n)

            loaded = synthetic.load(cohort, people, progress=progress)
        finished = time.perf_counter()

        where = f" enrolled in {chosen.name}" if chosen else ""
        self.stdout.write(
            f"Created {members} synthetic members in {org.name}{where}, {days} days from {start_date} (seed {seed}): "
            f"{loaded.checkins} check-ins ({loaded.tags} activity tags), {loaded.responses} questionnaire responses, "
            f"{loaded.members} ground-truth records."
        )
        self.stdout.write(
            f"Took {finished - started:.1f} s: accounts {made - started:.1f} s, generating {generated - made:.1f} s, "
            f"loading {finished - generated:.1f} s."
        )

    @transaction.atomic
    def _create_members(self, org, count, program, admin, start_date, bar) -> list[User]:
        domain = f"{org.slug.replace('_', '-')}.example"
        # Later runs continue the numbering rather than clash with the accounts of earlier ones.
        pattern = re.compile(rf"^synthetic-(\d+)@{re.escape(domain)}$")
        taken = User.objects.filter(email__startswith="synthetic-", email__endswith=f"@{domain}")
        numbers = [int(match[1]) for email in taken.values_list("email", flat=True) if (match := pattern.match(email))]
        first = max(numbers, default=0) + 1
        people = []
        for number in range(first, first + count):
            person = actions.create_person(
                f"synthetic-{number:04d}@{domain}", display_name(number), None, time_zone=org.time_zone
            )
            person.set_unusable_password()
            person.save(update_fields=["password"])
            actions.grant_role(person, org, Role.MEMBER)
            if program is not None:
                program_actions.enrol(by=admin, program=program, member=person, discharge_date=start_date)
            people.append(person)
            bar.update()
        return people
