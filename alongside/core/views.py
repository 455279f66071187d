from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from alongside.core.health import health_report


@never_cache
def healthz(request):
    status, report = health_report()
    return JsonResponse(report, status=status)
