"""`alongside signals rescan | replay | evaluate`: the early-warning engine from the command line."""

from __future__ import annotations

import json
from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from None


class Command(BaseCommand):
    help = "Early warning: rebuild detector state from history, replay one member, or evaluate on synthetic data."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{rescan,replay,evaluate}")
        rescan = sub.add_parser("rescan", help="rebuild every member's detector state from history (no alerts)")
        rescan.add_argument("--block", type=int, default=5000, help="members per block (default 5000)")
        replay = sub.add_parser("replay", help="print, day by day, what would have fired for one member and why")
        replay.add_argument("--member", required=True, help="the member's id or e-mail address")
        replay.add_argument("--since", type=_day, help="first day (YYYY-MM-DD)")
        replay.add_argument("--until", type=_day, help="last day (YYYY-MM-DD; default yesterday)")
        replay.add_argument("--json", action="store_true", help="print JSON instead of text")
        evaluate = sub.add_parser("evaluate", help="run the engine over synthetic cohorts with ground truth")
        evaluate.add_argument("--members", type=int, default=2000)
        evaluate.add_argument("--days", type=int, default=365)
        evaluate.add_argument("--seed", type=int, default=None, help="seed of the first cohort (default its own)")

    def handle(self, *args, action, **options):
        return getattr(self, f"_{action}")(**options)

    def _rescan(self, *, block, **options):
        from alongside.signals import rescan

        out = getattr(self.stdout, "_out", self.stdout)
        with tqdm(total=0, desc="members", unit="", file=out, disable=not self.stdout.isatty()) as bar:

            def progress(done: int, total: int, checkins: int) -> None:
                bar.total = total
                bar.set_postfix(checkins=checkins, refresh=False)
                bar.update(done - bar.n)

            result = rescan.rescan(block=block, progress=progress)
        rate = result.checkins / result.seconds if result.seconds else 0
        self.stdout.write(
            f"Rebuilt the detector state of {result.members} members from {result.checkins} check-ins in "
            f"{result.seconds:.1f} s ({rate:,.0f} check-ins/s; reading {result.read_seconds:.1f} s)."
        )

    def _replay(self, *, member, since, until, json: bool, **options):
        from alongside.signals import replay

        User = get_user_model()
        person = User.objects.filter(pk=int(member)).first() if member.isdigit() else None
        person = person or User.objects.filter(email__iexact=member).first()
        if person is None:
            raise CommandError(f"no member {member}")
        if since and until and since > until:
            raise CommandError("--since is after --until")
        days = replay.replay(person, since=since, until=until)
        if json:
            self.stdout.write(_json_dumps({"member": person.pk, "days": days}))
        else:
            self.stdout.write(replay.render_text(person, days))

    def _evaluate(self, *, members, days, seed, **options):
        from alongside.signals import evaluation

        reports = []
        for name, params in evaluation.COHORTS.items():
            params = dict(params)
            if seed is not None:
                params["seed"] = seed + len(reports)
            reports.append(evaluation.evaluate(members, days, name=name, **params))
        self.stdout.write(evaluation.render_text(reports))


def _json_dumps(value) -> str:
    return json.dumps(value, indent=2)
