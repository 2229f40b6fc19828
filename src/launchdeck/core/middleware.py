"""Request id: taken from `X-Request-ID` when a proxy sets a sane one, otherwise generated; echoed back."""

import re
import uuid

REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get(REQUEST_ID_HEADER, "")
        request.request_id = incoming if SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


class DomainErrorMiddleware:
    """Turns a domain error that escapes a page view into the matching error page (the API maps its own)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
        from django.http import Http404
        from django.shortcuts import render

        from launchdeck.core.errors import DomainError, NotFound, PermissionDenied

        if isinstance(exception, NotFound):
            raise Http404(exception.detail)
        if isinstance(exception, PermissionDenied):
            raise DjangoPermissionDenied(exception.detail)
        if isinstance(exception, DomainError):
            return render(request, "core/error.html", {"error": exception}, status=exception.status)
        return None


class ApiErrorFormatMiddleware:
    """Errors produced outside the API's own handlers (wrong method, unknown path) get the API's JSON shape too."""

    API_PREFIX = "/api/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith(self.API_PREFIX)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            import json

            from django.http import HttpResponse

            body = json.dumps({"detail": response.reason_phrase + ".", "errors": []})
            converted = HttpResponse(body, status=response.status_code, content_type="application/json")
            if response.has_header("Allow"):
                converted["Allow"] = response["Allow"]
            return converted
        return response
