"""How API callers prove who they are: a bearer token or a browser session (with CSRF)."""

from ninja.errors import AuthorizationError
from ninja.security import HttpBearer, SessionAuth

from launchdeck.accounts.roles import roles_may_write
from launchdeck.accounts.services import api_token_authenticate

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _refuse_read_only_writes(request, user):
    """A caller whose roles only read is refused every write before its input is even looked at."""
    if request.method not in SAFE_METHODS and not user.is_superuser and not roles_may_write(user.roles):
        raise AuthorizationError(message="Your roles are read-only: you cannot change anything.")
    return user


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` with a token made by `launchdeck token create` or on the Tokens page."""

    def authenticate(self, request, token):
        user = api_token_authenticate(token)
        if user is None:
            return None
        request.user = user
        return _refuse_read_only_writes(request, user)


class Session(SessionAuth):
    """The signed-in browser session; writes must carry the CSRF token."""

    def __call__(self, request):
        # Without a signed-in session this scheme does not apply, so the caller gets the 401 of an unauthenticated
        # request rather than a CSRF 403; CSRF is checked on every request that a session does authenticate.
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        return _refuse_read_only_writes(request, user) if user is not None else None


API_AUTH = [BearerToken(), Session()]
