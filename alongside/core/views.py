from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from alongside.core.health import health_report


@never_cache
def healthz(request):
    status, report = health_report()
    return JsonResponse(report, status=status)


def ping(request):
    """The cheapest answer the server can give (no database): the baseline for benchmarks and load balancers."""
    return HttpResponse("pong", content_type="text/plain")
