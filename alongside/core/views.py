from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from alongside.core import metrics
from alongside.core.health import health_report


@never_cache
def healthz(request):
    status, report = health_report()
    return JsonResponse(report, status=status)


def ping(request):
    """The cheapest answer the server can give (no database): the baseline for benchmarks and load balancers."""
    return HttpResponse("pong", content_type="text/plain")


@never_cache
def metrics_view(request):
    """Prometheus' text format, for this machine or the holder of ALONGSIDE_METRICS_TOKEN; 404 for anyone else,
    as if there were nothing here."""
    if not metrics.may_scrape(request):
        raise Http404
    return HttpResponse(metrics.exposition(), content_type=metrics.CONTENT_TYPE)
