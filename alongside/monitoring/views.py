from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alongside.accounts.decorators import member_required
from alongside.accounts.models import admin_organisation_or_404
from alongside.core.forms import add_domain_errors
from alongside.monitoring import chart_cache, checkins, journal, program_instruments
from alongside.monitoring import history as history_charts
from alongside.monitoring import instruments as instruments_module
from alongside.monitoring import questionnaires as questionnaires_domain
from alongside.monitoring.forms import (
    CheckInForm,
    InstrumentUploadForm,
    JournalForm,
    JournalSearchForm,
    QuestionnaireForm,
)
from alongside.monitoring.models import CheckIn, JournalEntry, QuestionnaireResponse, TagKind
from alongside.programs.models import Program


@member_required
def checkin(request):
    """Check in: tap a mood, tap Save. Everything else is optional."""
    member = request.user
    form = CheckInForm(
        request.POST or None,
        fields=checkins.fields_for(member),
        activities=list(checkins.tags_for(member, TagKind.ACTIVITY)),
        warning_signs=list(checkins.tags_for(member, TagKind.WARNING_SIGN)),
    )
    if request.method == "POST" and form.is_valid():
        try:
            answers = {name: value for name, value in form.cleaned_data.items() if value not in ("", [])}
            # A form sent twice (its key, set by the page, is the same) stores one check-in; both answers agree.
            checkins.record_from_form(member, key=request.POST.get("key", ""), **answers)
            messages.success(request, _("Checked in. Thank you."))
            return redirect("monitoring:history")
        except ValidationError as error:
            add_domain_errors(form, error)
    return render(request, "monitoring/checkin.html", {"form": form}, status=400 if form.errors else 200)


def _my_charts(member, period: str) -> list[chart_cache.Chart]:
    return [chart for _category, chart in history_charts.charts_for(member, period=period)]


@member_required
def history(request):
    """Check-ins and charts. Charts already drawn from the same data are part of the page; any other is drawn in
    a request of its own (htmx, or a link without JavaScript), so the page never waits for a drawing."""
    entries = CheckIn.objects.filter(member=request.user).prefetch_related("tags")
    page = Paginator(entries, 30).get_page(request.GET.get("page"))
    period = history_charts.period_asked(request.GET)
    wanted = _my_charts(request.user, period)
    found = chart_cache.stored(request.user, wanted)
    figures = [
        (chart, found.get(chart.slot), reverse("monitoring:history_chart", args=[chart.slot])) for chart in wanted
    ]
    context = {"page": page, "period": period, "figures": figures}
    return render(request, "monitoring/history.html", context)


@member_required
def history_chart(request, slot):
    """One of the member's charts, drawn if its data changed: a fragment for the history page, or a page."""
    period = history_charts.period_asked(request.GET)
    chart = next((chart for chart in _my_charts(request.user, period) if chart.slot == slot), None)
    if chart is None:
        raise Http404
    svg = chart_cache.drawn(request.user, [chart])[0]
    template = "monitoring/_chart_figure.html" if request.htmx else "monitoring/history_chart.html"
    chart_url = reverse("monitoring:history_chart", args=[chart.slot])
    return render(request, template, {"chart": chart, "svg": svg, "chart_url": chart_url, "period": period})


@member_required
def questionnaires(request):
    """What is due now, and past results."""
    due = questionnaires_domain.due(request.user)
    responses = QuestionnaireResponse.objects.filter(member=request.user)[:30]
    names = {code: instrument.name for code, instrument in program_instruments.for_member(request.user).items()}
    return render(
        request,
        "monitoring/questionnaires.html",
        {
            "due": [(a, names.get(a.instrument, a.instrument)) for a in due],
            "responses": responses,
            "names": names,
            "available": sorted(names.items(), key=lambda item: item[1]),
        },
    )


@member_required
def answer_questionnaire(request, code):
    instrument = program_instruments.for_member(request.user).get(code)
    if instrument is None:
        raise Http404
    form = QuestionnaireForm(request.POST or None, instrument=instrument)
    if request.method == "POST" and form.is_valid():
        answers = form.answers()
        response, event = questionnaires_domain.submit(
            request.user, code, answers, followup=form.cleaned_data.get("followup") or "", source="web"
        )
        if event is not None:
            # The crisis screen comes first, at once; the result waits.
            return redirect(reverse("web:crisis") + "?after=questionnaire")
        return redirect("monitoring:questionnaire_result", response_pk=response.pk)
    return render(request, "monitoring/questionnaire_form.html", {"form": form, "instrument": instrument})


@member_required
def questionnaire_result(request, response_pk):
    response = get_object_or_404(QuestionnaireResponse, pk=response_pk, member=request.user)
    instrument = program_instruments.for_member(request.user).get(response.instrument)
    if instrument is None:  # the program that added it has since been left
        raise Http404
    return render(request, "monitoring/questionnaire_result.html", {"response": response, "instrument": instrument})


def _journal_form(request, data=None, initial=None):
    return JournalForm(
        data,
        initial=initial,
        prompts=journal.PROMPTS,
        relationships=list(journal.shareable_relationships(request.user)),
    )


@member_required
def journal_list(request):
    search = JournalSearchForm(request.GET or None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    entries = journal.search(request.user, query)
    return render(request, "monitoring/journal_list.html", {"entries": entries, "search": search, "query": query})


@member_required
def journal_write(request, entry_pk=None):
    entry = get_object_or_404(JournalEntry, pk=entry_pk, member=request.user) if entry_pk else None
    initial = None
    if entry:
        initial = {
            "prompt": entry.prompt,
            "text": entry.text,
            "shared_with": [str(pk) for pk in entry.shared_with.values_list("pk", flat=True)],
        }
    elif request.GET.get("prompt"):
        initial = {"prompt": request.GET["prompt"]}
    form = _journal_form(request, request.POST or None, initial)
    if request.method == "POST" and form.is_valid():
        values = {
            "text": form.cleaned_data["text"],
            "prompt": form.cleaned_data["prompt"],
            "shared_with": form.cleaned_data.get("shared_with", []),
        }
        try:
            saved = journal.edit(request.user, entry, **values) if entry else journal.write(request.user, **values)
            messages.success(request, _("Saved to your journal."))
            if saved.crisis:
                # What they wrote sounds like a crisis: their own plan and the crisis lines, at once.
                messages.info(
                    request, _("What you wrote sounds really hard. Here is your plan and people who can help now.")
                )
                return redirect("web:crisis")
            return redirect("monitoring:journal")
        except ValidationError as error:
            add_domain_errors(form, error)
    return render(
        request, "monitoring/journal_write.html", {"form": form, "entry": entry}, status=400 if form.errors else 200
    )


@member_required
@require_POST
def journal_delete(request, entry_pk):
    entry = get_object_or_404(JournalEntry, pk=entry_pk, member=request.user)
    journal.delete(request.user, entry)
    messages.success(request, _("Entry deleted."))
    return redirect("monitoring:journal")


def _program_for_admin(request, slug, program_pk) -> Program:
    organisation = admin_organisation_or_404(request.user, slug)
    return get_object_or_404(Program, pk=program_pk, organisation=organisation)


@login_required
def program_instruments_page(request, slug, program_pk):
    """Org admins add questionnaires of their own to a program, as definition files like the built-in ones."""
    program = _program_for_admin(request, slug, program_pk)
    posted = request.method == "POST"
    form = InstrumentUploadForm(request.POST if posted else None, request.FILES if posted else None)
    if request.method == "POST" and form.is_valid():
        try:
            added = program_instruments.add(
                by=request.user, program=program, definition=form.definition(), request=request
            )
            messages.success(request, _("%(name)s is added to %(program)s.") % {"name": added.name, "program": program})
            return redirect("monitoring:program_instruments", slug=slug, program_pk=program.pk)
        except ValidationError as error:
            add_domain_errors(form, error)
    context = {
        "program": program,
        "organisation": program.organisation,
        "form": form,
        "added": program.instruments.all(),
        "builtin": instruments_module.load_builtin().values(),
    }
    return render(request, "monitoring/program_instruments.html", context, status=400 if form.errors else 200)
