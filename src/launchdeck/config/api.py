"""The one REST API, mounted at /api/v1/."""

from ninja import NinjaAPI

from launchdeck import __version__
from launchdeck.accounts.api import router as accounts_router
from launchdeck.accounts.auth import API_AUTH
from launchdeck.audit.api import router as audit_router
from launchdeck.catalog.api import router as catalog_router
from launchdeck.core.api import install_error_handlers, reject_null_characters
from launchdeck.environments.api import router as environments_router
from launchdeck.integrations.api import router as integrations_router
from launchdeck.org.api import router as org_router
from launchdeck.portfolio.api import router as portfolio_router
from launchdeck.releases.api import router as releases_router

api = NinjaAPI(
    title="Launchdeck API",
    version=__version__,
    description=(
        "Enterprise release management. Authenticate with a browser session (send the CSRF token on writes) "
        "or `Authorization: Bearer <token>`. Errors are `{detail, errors: [{field, message}]}`. "
        "Edits carry the `version` you read; a stale version gets 409 and changes nothing."
    ),
    auth=API_AUTH,
    urls_namespace="api",
)
install_error_handlers(api)
api.add_decorator(reject_null_characters)
api.add_router("", accounts_router)
api.add_router("", audit_router)
api.add_router("", org_router)
api.add_router("", catalog_router)
api.add_router("", portfolio_router)
api.add_router("", releases_router)
api.add_router("", environments_router)
api.add_router("", integrations_router)
