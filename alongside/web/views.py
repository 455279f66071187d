import csv
import logging
from datetime import date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.text import slugify
from django.utils.translation import gettext as _

from alongside.accounts.decorators import member_required
from alongside.accounts.models import Organisation, Role, admin_organisation_or_404, admin_organisations, can_invite
from alongside.audit.log import record
from alongside.audit.models import AuditAction
from alongside.care import crisis_screen, network, plan, policy, safety
from alongside.care.models import CareRelationship, Category
from alongside.groups import access as group_access
from alongside.groups import mentoring
from alongside.monitoring import chart_cache, charts, history, journal
from alongside.monitoring.models import CheckIn
from alongside.programs.models import Enrolment, Program
from alongside.signals import alerts
from alongside.signals.models import AlertStatus
from alongside.web import caseload, outcomes, timeline

log = logging.getLogger(__name__)


def home(request):
    if not request.user.is_authenticated:
        return redirect(settings.LOGIN_URL)
    if request.user.is_care_staff:
        return redirect("web:staff_home")
    if request.user.is_member:
        return redirect("web:member_home")
    return render(request, "web/no_role.html")


@member_required
def member_home(request):
    organisations = Organisation.objects.filter(roles__user=request.user, roles__role=Role.MEMBER).distinct()
    enrolments = (
        Enrolment.objects.current()
        .filter(member=request.user)
        .select_related("program__organisation", "phase")
        .order_by("program__name")
    )
    return render(request, "web/member_home.html", {"organisations": organisations, "enrolments": enrolments})


@login_required
def staff_home(request):
    if not request.user.is_care_staff:
        raise PermissionDenied
    grants = request.user.org_roles.exclude(role=Role.MEMBER).select_related("organisation")
    by_organisation: dict[Organisation, list[str]] = {}
    for grant in grants.order_by("organisation__name", "role"):
        by_organisation.setdefault(grant.organisation, []).append(grant.get_role_display())
    supporting = (
        policy.live_relationships(request.user)
        .select_related("member", "organisation")
        .order_by("member__display_name", "role")
    )
    return render(
        request,
        "web/staff_home.html",
        {
            "roles_by_organisation": by_organisation,
            "supporting": supporting,
            "admin_organisations": list(admin_organisations(request.user)),
            "invite_organisations": [o for o in by_organisation if can_invite(request.user, o, Role.MEMBER)],
            "moderates": group_access.moderates_anything(request.user),
            "mentor_queue": mentoring.may_see_queue(request.user),
            "mentors_in": mentoring.peer_mentor_organisations(request.user).exists(),
            "open_alerts": alerts.alerts_visible_to(request.user)
            .exclude(member=request.user)
            .exclude(status=AlertStatus.RESOLVED)
            .count(),
        },
    )


CASELOAD_PAGE = 25


@login_required
def caseload_view(request):
    """The members a supporter supports, sorted by need, with flags, last check-in and contact and a mood line;
    filtered by name, flag and phase; refreshed in place by htmx."""
    if not request.user.is_care_staff:
        raise PermissionDenied
    rows = caseload.caseload_for(request.user)
    phases = sorted({phase for row in rows for phase in row.phases})
    query, flag, phase = request.GET.get("q", "")[:100], request.GET.get("flag", ""), request.GET.get("phase", "")
    flag = flag if flag in caseload.FLAGS else ""
    phase = phase if phase in phases else ""
    shown = caseload.filter_rows(rows, query=query, flag=flag, phase=phase)
    page = Paginator(shown, CASELOAD_PAGE).get_page(request.GET.get("page"))
    caseload.record_reads(request, page.object_list)
    caseload.mood_lines(page.object_list)
    for row in page.object_list:
        if row.mood and any(value is not None for value in row.mood):
            row.sparkline = charts.sparkline(
                row.mood, label=_("Mood each day over the last %(days)s days") % {"days": caseload.SPARK_DAYS}
            )
    context = {
        "page": page,
        "total": len(rows),
        "flags": caseload.FLAGS.values(),
        "phases": phases,
        "query": query,
        "flag": flag,
        "phase": phase,
        "filters": urlencode({key: value for key, value in (("q", query), ("flag", flag), ("phase", phase)) if value}),
    }
    template = "web/_caseload_rows.html" if request.htmx and not request.htmx.boosted else "web/caseload.html"
    return render(request, template, context)


def _outcome_rows(result: outcomes.Outcomes) -> list[tuple[str, str, str]]:
    """(measure, value, of how many) for the page and the CSV, small cells held back in words."""
    held = _("fewer than 5: held back")
    all_but = _("all but fewer than 5: held back")

    def count(value):
        return held if value is None else str(value)

    def share(item: outcomes.Share):
        if item.of == 0:
            return _("nobody to count yet"), "0"
        if item.count is None:
            return (all_but if item.left_out_small else held), ("" if item.of is None else str(item.of))
        return f"{item.percent}% ({item.count})", str(item.of)

    rows = [
        (_("Members enrolled now"), count(result.enrolled), ""),
        (_("Active: a check-in in the last 30 days"), *share(result.active)),
        (
            _("Check-in adherence: median share of the last 30 days with a check-in"),
            held if result.adherence_median is None else f"{result.adherence_median}%",
            count(result.enrolled),
        ),
    ]
    for days, item in result.retention:
        rows.append((_("Still checking in %(days)s days after discharge") % {"days": days}, *share(item)))
    for change in result.changes:
        name = change.name
        rows.append(
            (
                _("%(name)s: mean change from first to latest result") % {"name": name},
                held if change.mean_change is None else f"{change.mean_change:+}",
                count(change.members),
            )
        )
        rows.append((_("%(name)s: reliably improved") % {"name": name}, *share(change.improved)))
        rows.append((_("%(name)s: reliably deteriorated") % {"name": name}, *share(change.deteriorated)))
        rows.append(
            (_("%(name)s: reliable recovery (of those who were a case)") % {"name": name}, *share(change.recovered))
        )
    rows.append(
        (
            _("Alerts in the last 90 days: median minutes to acknowledge"),
            held if result.acknowledge_median_minutes is None else str(result.acknowledge_median_minutes),
            count(result.alerts),
        )
    )
    rows.append((_("Alerts still waiting for acknowledgement"), count(result.unacknowledged), ""))
    rows.append((_("Appointments attended (of attended and missed, last 90 days)"), *share(result.attendance)))
    rows.append((_("Group meetings attended (of those recorded, last 90 days)"), *share(result.group_attendance)))
    return rows


@login_required
def program_outcomes(request, slug):
    """An org admin's view of a program's outcomes: aggregates only, small cells held back; CSV on request."""
    organisation = admin_organisation_or_404(request.user, slug)
    programs = list(Program.objects.filter(organisation=organisation).order_by("name"))
    if not programs:
        return render(request, "web/outcomes.html", {"organisation": organisation, "programs": []})
    chosen = next((p for p in programs if str(p.pk) == request.GET.get("program", "")), programs[0])
    result = outcomes.outcomes_for(chosen)
    rows = _outcome_rows(result)
    record(
        AuditAction.VIEW,
        request=request,
        organisation=organisation,
        category="outcomes",
        detail=f"program outcomes of {chosen.name}" + (" (CSV)" if request.GET.get("format") == "csv" else ""),
    )
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="outcomes-{slugify(chosen.name)}-{result.as_of}.csv"'
        writer = csv.writer(response)
        writer.writerow([_("Program"), _("As of"), _("Measure"), _("Value"), _("Of")])
        for measure, value, of in rows:
            writer.writerow([_csv_safe(chosen.name), result.as_of.isoformat(), measure, value, of])
        return response
    held = _("held back")
    retention_chart = charts.bar_chart(
        [_("%(days)s days") % {"days": days} for days, _item in result.retention],
        [item.percent for _days, item in result.retention],
        title=_("Still checking in, days after discharge"),
        held_back=held,
    )
    change_labels, change_values = [], []
    for change in result.changes:
        change_labels += [
            _("%(name)s improved") % {"name": change.name},
            _("%(name)s deteriorated") % {"name": change.name},
        ]
        change_values += [change.improved.percent, change.deteriorated.percent]
    change_chart = charts.bar_chart(
        change_labels, change_values, title=_("Reliable change, first to latest"), held_back=held
    )
    return render(
        request,
        "web/outcomes.html",
        {
            "organisation": organisation,
            "programs": programs,
            "program": chosen,
            "result": result,
            "rows": rows,
            "charts": [retention_chart, change_chart],
        },
    )


def _csv_safe(text: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: a program named so stays text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _crisis_context(request) -> dict:
    """The crisis screen's parts, in the order the crisis guidance sets (care/crisis_screen.py). Whatever goes
    wrong with the personal parts, the lines are shown: those are read first, and their own failure falls back
    to the country's defaults."""
    try:
        context = {"sources": crisis_screen.lines_for(request.user)}
    except Exception:
        log.exception("crisis lines of the person's organisations could not be read; showing the defaults")
        context = {"sources": crisis_screen.lines_for(None)}
    if request.user.is_authenticated and request.user.is_member:
        try:
            context["steps"] = plan.crisis_steps(request.user)
            recipients = list(safety.safety_recipients(request.user))
            context["recipients"] = recipients
            context["recipient_names"] = ", ".join(relationship.staff.display_name for relationship in recipients)
        except Exception:
            log.exception("the member's own crisis steps could not be read")
    return context


def _with_cache_headers(request, response):
    # Personal pages are never kept by shared caches; the public crisis page may be, briefly.
    if request.user.is_authenticated:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        patch_cache_control(response, public=True, max_age=600)
    return response


def crisis(request):
    """Emergency number and crisis lines. Public: it must never ask anyone to sign in first.

    Signed-in people see their own organisations' lines, and members their own plan's steps; everyone else
    sees the defaults for the deployment's country.
    """
    context = _crisis_context(request)
    if request.user.is_authenticated and request.GET.get("after") == "questionnaire":
        # Right after a safety answer: say what happened and who now knows.
        context["after_safety_answer"] = True
    return _with_cache_headers(request, render(request, "web/crisis.html", context))


def struggling(request):
    """ "I'm struggling": the crisis screen with the member's own plan, at once. Pressing the button (a POST,
    so no link preview or prefetch can trigger it) records the moment and tells the team who receive safety
    alerts; "Ask my team to reach out" records the urgent kind. From the page cached on the device the same
    posts are queued and sent when the network returns, with their keys, so none is lost or doubled."""
    if not (request.user.is_authenticated and request.user.is_member):
        # Signed out (an idle session ended) or not a member: the crisis lines at once, never a sign-in page.
        return _with_cache_headers(request, render(request, "web/crisis.html", _crisis_context(request)))
    context = _crisis_context(request)
    context["struggling"] = True
    if request.method == "POST":
        ask_team = request.POST.get("ask_team") == "1"
        try:
            event = safety.record_struggling(request.user, ask_team=ask_team, client_key=request.POST.get("key", ""))
        except Exception:
            # The screen still shows; the page's script keeps the press and sends it again.
            log.exception("could not record an I'm struggling press")
            if request.headers.get("Accept", "").startswith("application/json"):
                return JsonResponse({"detail": _("Not recorded yet; it will be sent again.")}, status=503)
            return _with_cache_headers(request, render(request, "web/crisis.html", context))
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"event": event.pk, "team_asked": event.team_asked, "told": context["recipient_names"]})
        context["recorded"] = event
    return _with_cache_headers(request, render(request, "web/crisis.html", context))


@login_required
def member_record(request, member_pk):
    """A supporter's view of one member: only what the member shares with them. Each section's read is checked
    and audited on its own (all in one insert), so the member sees exactly which parts were looked at."""
    member = policy.visible_member_or_404(request.user, member_pk)
    if member == request.user:
        raise Http404  # members see their own data on their own pages
    shared = policy.categories_shared_with(request.user, member)
    reads = [(Category.PROFILE, "member record", None)]
    context = {
        "member": member,
        "relationships": policy.live_relationships(request.user).filter(member=member),
        "team": CareRelationship.objects.care_team_of(member),
        "sections": [(category, category.value in shared) for category in Category if category != Category.PROFILE],
    }
    context["safety_events"] = list(safety.events_visible_to(request.user, member)[:10])
    context["alerts"] = list(alerts.alerts_visible_to(request.user).filter(member=member)[:5])
    context["plan_shared"] = Category.PLAN in shared
    context["goals_shared"] = Category.GOALS in shared
    # Programs and transitions come with the profile, limited to the viewer's organisations; the care team's
    # transition notes only with the plan.
    viewer_organisations = {relationship.organisation_id for relationship in context["relationships"]}
    viewer_organisations |= set(admin_organisations(request.user).values_list("pk", flat=True))
    context["network"] = network.network_for(member, organisations=viewer_organisations)
    context["may_record_transition"] = policy.can(request.user, policy.Action.CHANGE, member, Category.PLAN)
    context["may_schedule"] = policy.can(request.user, policy.Action.CHANGE, member, Category.APPOINTMENTS)
    context["period"] = history.period_asked(request.GET)
    # The charts come in their own request (`member_charts`), so the record itself answers quickly.
    context["has_charts"] = bool(shared.intersection(history.CHART_CATEGORIES))
    if Category.CHECKINS in shared:
        reads.append((Category.CHECKINS, "recent check-ins", None))
        context["checkins"] = CheckIn.objects.filter(member=member).prefetch_related("tags")[:14]
    if Category.QUESTIONNAIRES in shared:
        reads.append((Category.QUESTIONNAIRES, "questionnaire results", None))
    if Category.JOURNAL in shared:
        entries = list(journal.shared_with_person(request.user, member)[:20])
        if entries:
            reads.append((Category.JOURNAL, f"{len(entries)} shared journal entries", None))
        context["journal_entries"] = entries
    if Category.ENGAGEMENT in shared:
        reads.append((Category.ENGAGEMENT, "check-in adherence", None))
        context["engagement"] = engagement_summary(member)
    reads += _timeline_context(request, member, shared, context)
    policy.record_reads(request, member, reads)
    return render(request, "web/member_record.html", context)


# What the audit log says a supporter read when they saw the charts of each category.
CHART_READS = {
    Category.CHECKINS: "check-in charts",
    Category.ENGAGEMENT: "check-in calendar",
    Category.QUESTIONNAIRES: "questionnaire charts",
}


@login_required
def member_charts(request, member_pk):
    """A member's charts for a supporter, each only as the member shares it (each read audited): a fragment
    for the record page to load (htmx), or a page of its own. Charts drawn since their data last changed are
    part of it; each other one is drawn in a request of its own (`member_chart`)."""
    member = policy.visible_member_or_404(request.user, member_pk)
    if member == request.user:
        raise Http404
    shared = policy.categories_shared_with(request.user, member)
    period = history.period_asked(request.GET)
    wanted = history.charts_for(member, period=period, categories=shared)
    found = chart_cache.stored(member, [chart for _category, chart in wanted])
    reads = [(Category.PROFILE, "charts", None)]
    reads += [(category, detail, None) for category, detail in CHART_READS.items() if category in shared]
    policy.record_reads(request, member, reads)
    figures = [
        (chart, found.get(chart.slot), reverse("web:member_chart", args=[member.pk, chart.slot]))
        for _category, chart in wanted
    ]
    context = {"member": member, "period": period, "figures": figures}
    template = "web/_member_charts.html" if request.htmx else "web/member_charts.html"
    return render(request, template, context)


@login_required
def member_chart(request, member_pk, slot):
    """One of a member's charts for a supporter who may see what it shows, drawn if its data changed."""
    member = policy.visible_member_or_404(request.user, member_pk)
    if member == request.user:
        raise Http404
    period = history.period_asked(request.GET)
    shared = policy.categories_shared_with(request.user, member)
    visible = history.charts_for(member, period=period, categories=shared)
    category, chart = next(((category, chart) for category, chart in visible if chart.slot == slot), (None, None))
    if chart is None:
        raise Http404
    policy.record_reads(request, member, [(category, CHART_READS[category], None)])
    svg = chart_cache.drawn(member, [chart])[0]
    chart_url = reverse("web:member_chart", args=[member.pk, chart.slot])
    context = {"member": member, "chart": chart, "svg": svg, "chart_url": chart_url, "period": period}
    return render(request, "monitoring/_chart_figure.html" if request.htmx else "web/member_chart.html", context)


TIMELINE_DAYS = 30
EARLIEST_TIMELINE_DAY = date(1900, 1, 1)


def _timeline_context(request, member, shared: set[str], context: dict) -> list[tuple]:
    """The timeline's window (TIMELINE_DAYS ending at `?before=`, a date, or now) and its items. Returns the
    reads for the audit log that the sections above do not already name."""
    until = timezone.now()
    before = request.GET.get("before", "")
    if before:
        try:
            day = date.fromisoformat(before)
        except ValueError:
            day = None
        # From 1900 on: a window reaching back before the calendar's first day cannot be computed, and no record
        # starts that early.
        if day is not None and EARLIEST_TIMELINE_DAY <= day <= timezone.localdate(
            until, timezone=ZoneInfo(member.time_zone)
        ):
            until = datetime.combine(day, time.min, tzinfo=ZoneInfo(member.time_zone))
    since = until - timedelta(days=TIMELINE_DAYS)
    reads = [
        (category, "timeline", None)
        for category in (Category.APPOINTMENTS, Category.PLAN, Category.GROUPS)
        if category in shared
    ]
    organisations = list(policy.note_organisations(request.user, member))
    context["may_keep_notes"] = bool(organisations)
    if organisations:
        reads.append((policy.NOTES, "timeline", organisations[0]))
    context["timeline"] = timeline.timeline_for(request.user, member, since=since, until=until, shared=shared)
    context["timeline_since"] = since
    context["timeline_until"] = until
    context["timeline_older"] = since.astimezone(ZoneInfo(member.time_zone)).date().isoformat()
    context["timeline_is_latest"] = not before
    return reads


def engagement_summary(member, days: int = 14) -> dict:
    """Whether the member checks in, without what they said: days with a check-in lately and the last one."""
    since = timezone.localdate() - timedelta(days=days - 1)
    recent = CheckIn.objects.filter(member=member, local_date__gte=since)
    last = CheckIn.objects.filter(member=member).values_list("recorded_at", flat=True).first()
    return {"days": days, "days_with_checkin": recent.values("local_date").distinct().count(), "last": last}


SERVICE_WORKER = Path(__file__).resolve().parent.parent / "core" / "static" / "alongside" / "js" / "sw.js"


def service_worker(request):
    """The service worker, served from the site root so that it may look after /me/checkin/ and /crisis/."""
    response = HttpResponse(SERVICE_WORKER.read_bytes(), content_type="application/javascript")
    response["Cache-Control"] = "no-cache"
    return response
