from launchdeck.audit.choices import AuditSource
from launchdeck.audit.context import audit_context

API_PREFIX = "/api/"


class AuditContextMiddleware:
    """Opens an audit context for each request: source `api` under /api/, `web` elsewhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        source = AuditSource.API if request.path.startswith(API_PREFIX) else AuditSource.WEB
        with audit_context(source, request_id=getattr(request, "request_id", None)):
            return self.get_response(request)
