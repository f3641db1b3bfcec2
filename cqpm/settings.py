"""Settings for the CQPM certification product.

Everything that differs between a laptop and production is read from the environment (see the README's
"Configuration" table). The defaults give the embedded mode: SQLite file, Celery tasks run eagerly
in-process, emails printed to the console, files in ./var/media.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name, default):
    return int(os.environ.get(name, default))


DEBUG = env_bool("DEBUG", False)
# The embedded default key is only acceptable for local use; production settings refuse it.
SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-local-only-key-change-me-in-production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "core.apps.CQPMAdminConfig",  # the admin, for superusers only (core/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_htmx",
    "rules.apps.AutodiscoverRulesConfig",
    "simple_history",
    "axes",
    "django_otp",
    "core.apps.TOTPConfig",  # django_otp.plugins.otp_totp with French names
    "core",
    "referential",
    "candidates",
    "evaluations",
    "deliberations",
    "reporting",
    "people",
]
# Development only: the benchmark's scale data (`manage.py seed_scale`) and its bare page (/bench/bare)
# live in the `bench` app (bench/apps.py). Installed when CQPM_BENCH is set (`make bench` sets it), by
# the tests and by cqpm/settings_bench.py; cqpm/settings_production.py removes it whatever the environment.
CQPM_BENCH = env_bool("CQPM_BENCH", False)
if CQPM_BENCH:
    INSTALLED_APPS.append("bench")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # After OTPMiddleware: a user with a confirmed TOTP device must enter his code before anything else.
    "core.middleware.OTPVerificationRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "core.middleware.PermissionDeniedAuditMiddleware",
    # Axes must be last: it turns repeated failed logins into a lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cqpm.urls"
WSGI_APPLICATION = "cqpm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A busy timeout lets the dev server and an eager task share the file without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    # The login or the e-mail address (core/backends.py).
    "core.backends.EmailOrUsernameBackend",
    # Kept so that sessions opened with it (login(..., backend=ModelBackend)) stay valid; it only
    # runs when the backend above refused (a wrong password is then checked twice).
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)  # one working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
PASSWORD_RESET_TIMEOUT = 3600

# django-axes: lock an account+IP pair after repeated failures (brute force protection).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Number of reverse proxies in front of Django that append to X-Forwarded-For (0: use REMOTE_ADDR).
# The client address feeds the lockout and the audit journal (core.auth.client_ip).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "core.auth.client_ip"
# Failures typed with an account's e-mail address count against its login (one series per account).
AXES_USERNAME_CALLABLE = "core.backends.lockout_username"
# Successful logins are in the audit journal already; do not keep a second copy with usernames.
AXES_DISABLE_ACCESS_LOG = True

# django-otp: optional TOTP second factor for staff and jury (core/auth.py).
OTP_TOTP_ISSUER = "Certification CQPM"
OTP_TOTP_THROTTLE_FACTOR = 1

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "fr-fr"
# Our date formats (cqpm/formats/fr/formats.py): « mercredi 9 décembre 2026 » in text, 09/12/2026 in tables.
FORMAT_MODULE_PATH = ["cqpm.formats"]
LANGUAGES = [("fr", _("Français"))]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Static and uploaded files --------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded and generated files live outside the web root; they are only served by permission-checked
# views that stream them from the storage (never through MEDIA_URL).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = None

AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    # Several web and worker hosts share files through an S3-compatible bucket.
    default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": None},
    }
STORAGES = {
    "default": default_storage,
    "staticfiles": {
        "BACKEND": os.environ.get(
            "STATICFILES_BACKEND", "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MAX_UPLOAD_SIZE = env_int("MAX_UPLOAD_SIZE", 20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_SIZE + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Cache ----------------------------------------------------------------------------------
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL:
    # core.cache.RedisCache: Django's, with one Redis client per pool rather than one per call (core/cache.py).
    CACHES = {"default": {"BACKEND": "core.cache.RedisCache", "LOCATION": CACHE_URL}}
    # Every request reads its session: from the shared cache rather than with a database query
    # (docs/performance.md, floor of a page). "cached_db" writes through to the database, so sessions
    # survive a cache flush or restart, and logout deletes both. Only with a shared cache: with the
    # per-process memory cache a session ended in one worker would live on in another's copy.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
# Without a broker, tasks run eagerly in-process: the embedded mode needs no Redis and no worker.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or None)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Periodic reminders (tutor opinions, scoring deadlines); filled by the apps that own them.
# Run `celery -A cqpm beat` next to the workers (docker-compose: the `beat` service).
CELERY_BEAT_SCHEDULE = {
    "evaluations-opinion-reminders": {
        "task": "evaluations.tasks.send_opinion_reminders",
        "schedule": crontab(hour=8, minute=0),
    },
    "evaluations-redact-invitation-links": {
        "task": "evaluations.tasks.redact_sent_invitation_links",
        "schedule": crontab(minute=20),
    },
    "people-redact-invitation-links": {
        "task": "people.tasks.redact_sent_invitation_links",
        "schedule": crontab(minute=25),
    },
    "evaluations-scoring-reminders": {
        "task": "evaluations.tasks.send_scoring_reminders",
        "schedule": crontab(hour=8, minute=15),
    },
    "core-requeue-stuck-notifications": {
        "task": "core.tasks.requeue_stuck_notifications",
        "schedule": crontab(minute="*/15"),
    },
    # Files of checked imports never confirmed hold personal data: gone after 7 days, every centre.
    "candidates-expire-import-jobs": {
        "task": "candidates.tasks.expire_import_jobs",
        "schedule": crontab(hour=3, minute=30),
    },
}

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Certification CQPM <no-reply@cqpm.local>")

# --- Forms ----------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
# The empty choice of a filter (django-filter) that sets none of its own: never « --------- ». Forms
# derive from core.forms.Form / ModelForm, whose empty choice reads « Choisissez… ».
FILTERS_EMPTY_CHOICE_LABEL = "Tous"

# --- Security headers (production adds HTTPS settings in cqpm/settings_production.py) --------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

# --- Business rules (domain.md: "make the rule a setting") -----------------------------------
CQPM = {
    # Deliberation: competencies stay acquired 24 months, blocs 5 years (branch agreement art. 55.3).
    "COMPETENCY_VALIDITY_MONTHS": env_int("CQPM_COMPETENCY_VALIDITY_MONTHS", 24),
    "BLOCK_VALIDITY_YEARS": env_int("CQPM_BLOCK_VALIDITY_YEARS", 5),
    "UNION_NOTICE_DAYS": 15,
    "EMPLOYEE_MEMBER_NOTICE_DAYS": 8,
    "JURY_QUORUM_MIN_PRESENT": env_int("CQPM_JURY_QUORUM_MIN_PRESENT", 2),
    "TUTOR_INVITATION_DAYS": env_int("CQPM_TUTOR_INVITATION_DAYS", 14),
    # « Personnes »: the set-password link of an account invitation (single use) expires after N days.
    "ACCOUNT_INVITATION_DAYS": env_int("CQPM_ACCOUNT_INVITATION_DAYS", 7),
    "RETENTION_YEARS": env_int("CQPM_RETENTION_YEARS", 6),
    "ACCROCHAGE_DEADLINE_DAYS": 90,
    # Scoring sheets are due N days after the evaluation; reminders at most every M days.
    "SCORING_DEADLINE_DAYS": env_int("CQPM_SCORING_DEADLINE_DAYS", 7),
    "SCORING_REMINDER_INTERVAL_DAYS": env_int("CQPM_SCORING_REMINDER_INTERVAL_DAYS", 3),
    "STATISTICS_CACHE_SECONDS": env_int("CQPM_STATISTICS_CACHE_SECONDS", 300),
    "CERTIFIER_LEGAL_NAME": os.environ.get(
        "CQPM_CERTIFIER_LEGAL_NAME", "Union des Industries et Métiers de la Métallurgie (UIMM)"
    ),
}

# The certifier's electronic seal (PAdES) on PV, parchemins and bloc attestations (deliberations/seal.py).
# Without a PKCS#12 file, a self-signed demo certificate is generated once where demo data are allowed
# (CQPM_SEAL_DEMO unset: follows DEMO_DATA_ALLOWED); in production the documents are then unsigned.
CQPM_SEAL = {
    "PKCS12_PATH": os.environ.get("CQPM_SEAL_PKCS12_PATH", ""),
    "PKCS12_PASSWORD": os.environ.get("CQPM_SEAL_PKCS12_PASSWORD", ""),
    "DEMO": env_bool("CQPM_SEAL_DEMO", None),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"weasyprint": {"level": "ERROR"}, "fontTools": {"level": "ERROR"}},
}

# --- CPF holders declaration (« accrochage », docs/accrochage.md) ------------------------------
# The certifier's identifiers given by the Caisse des Dépôts (8-character idClient, idContrat
# « MCFCER… »). Without them the export is refused, except in demo mode (DEMO_DATA_ALLOWED) where
# obviously fictitious identifiers are written. CPF_ACCROCHAGE_XSD: path of the official XSD when the
# certifier has received it; the export then validates every file against it instead of ours.
CPF_ACCROCHAGE = {
    "ID_CLIENT": os.environ.get("CPF_ID_CLIENT", "").strip(),
    "ID_CONTRAT": os.environ.get("CPF_ID_CONTRAT", "").strip(),
    "XSD_PATH": os.environ.get("CPF_ACCROCHAGE_XSD", "").strip(),
}

# Demo accounts (password "cqpm-demo") may be created by `manage.py seed_demo`; never in production.
DEMO_DATA_ALLOWED = env_bool("DEMO_DATA_ALLOWED", True)
