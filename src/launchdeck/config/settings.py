"""Django settings for Launchdeck. Every value that differs between installations comes from `LAUNCHDECK_*`."""

from pathlib import Path

import dj_database_url

from launchdeck.core.env import env_bool, env_int, env_list, env_str, secret_key

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATA_DIR", "var")).resolve()
PROXY_COUNT = env_int("PROXY_COUNT", 0, minimum=0, maximum=10)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = secret_key(debug=DEBUG)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_TZ = True
LANGUAGE_CODE = "en-gb"
USE_I18N = True

INSTALLED_APPS = [
    # Launchdeck's apps come first so that their commands (createsuperuser, changepassword) replace Django's.
    "launchdeck.core",
    "launchdeck.audit",
    "launchdeck.accounts",
    "launchdeck.org",
    "launchdeck.catalog",
    "launchdeck.portfolio",
    "launchdeck.releases",
    "launchdeck.environments",
    "launchdeck.integrations",
    "launchdeck.demo",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_htmx",
    "template_partials",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "launchdeck.core.middleware.RequestIdMiddleware",
    "launchdeck.core.middleware.ApiErrorFormatMiddleware",
    "launchdeck.core.middleware.DomainErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "launchdeck.audit.middleware.AuditContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "launchdeck.config.urls"
WSGI_APPLICATION = "launchdeck.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "launchdeck.core.context_processors.navigation",
            ],
        },
    },
]


def _database(url: str) -> dict:
    """Parse a database URL; SQLite gets WAL, a busy timeout and IMMEDIATE transactions so writers queue.

    Each serving thread keeps its connection for up to a minute, on SQLite too: opening one (with its pragmas) for
    every request cost more than the rest of a pipeline's call to record a deployment."""
    config = dj_database_url.parse(url, conn_max_age=60)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if config["NAME"] != ":memory:":
            Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    return config


DATABASES = {"default": _database(env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'launchdeck.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "launchdeck.accounts.backends.RoleBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login throttling: five failures for one username from one address lock it out for fifteen minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# Behind N reverse proxies the client address is the Nth from the right of X-Forwarded-For; throttling
# must key on it, or everyone would share the proxy's address and one person could lock anybody out.
AXES_IPWARE_PROXY_COUNT = PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if PROXY_COUNT else ["REMOTE_ADDR"]
if PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Served over TLS (secure cookies on): browsers are told to keep using HTTPS.
SECURE_HSTS_SECONDS = 31_536_000 if SESSION_COOKIE_SECURE else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Environment bookings: whether someone who may approve bookings may approve one they requested themselves.
LAUNCHDECK_BOOKING_SELF_APPROVAL = env_bool("BOOKING_SELF_APPROVAL", False)

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
