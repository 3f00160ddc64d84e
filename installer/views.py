from django.db import connection
from django.http import JsonResponse


def healthz(request):
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    """Readiness: the database answers a query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means not ready
        return JsonResponse(
            {
                "error": "Service Unavailable",
                "message": f"Database unavailable: {exc.__class__.__name__}",
                "statusCode": 503,
            },
            status=503,
        )
    return JsonResponse({"status": "ok", "database": "ok"})
