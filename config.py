"""Configuration, driven by the environment.

Every setting a deployment may change is read from an environment variable of the
same name; the defaults suit a developer's machine (embedded SQLite under instance/).
"""

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _dev_secret_key() -> str:
    """Return a per-checkout secret key kept in instance/ so sessions survive restarts."""
    INSTANCE_DIR.mkdir(exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'linli.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Public address used in QR codes and printed links (behind nginx: the https URL).
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")

    BABEL_DEFAULT_LOCALE = "zh_Hans"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = ("zh_Hans", "en")

    # Shared store for rate limits: Redis in production ("redis://127.0.0.1:6379/0").
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # If Redis is down, sign-in still works (limits counted per process meanwhile).
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # A signed-in person's pages kept in a shared store until a write they were read from
    # (app/core/pagecache.py): Redis in production ("redis://127.0.0.1:6379/1"); memory://
    # serves one process (the development server); empty turns it off.
    PAGE_CACHE_URL = os.environ.get("PAGE_CACHE_URL", "memory://")
    # What changes only with the clock ("closes in 2 days") is at most this late.
    PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "60"))
    # Elderly residents fill forms slowly: the CSRF token lives as long as the session.
    WTF_CSRF_TIME_LIMIT = None
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    # Sign-in from a device where the number signed in before (device cookie): counted per
    # device, so strangers cannot use up the owner's tries.
    TRUSTED_DEVICE_RATE_LIMIT = os.environ.get(
        "TRUSTED_DEVICE_RATE_LIMIT", "20 per minute;100 per hour"
    )

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)
    REMEMBER_COOKIE_DURATION = timedelta(days=14)

    # Household activation codes (local policy, not law).
    ACTIVATION_CODE_DAYS = int(os.environ.get("ACTIVATION_CODE_DAYS", "60"))
    ACTIVATION_MAX_ATTEMPTS = int(os.environ.get("ACTIVATION_MAX_ATTEMPTS", "5"))

    # A request may carry three photos of up to 10 MB each; each file is checked too.
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    # Reports from a sticker without an account: per address (every try) and per facility
    # (reports sent).
    REPAIR_STICKER_RATE_LIMIT = os.environ.get(
        "REPAIR_STICKER_RATE_LIMIT", "10 per hour;30 per day"
    )
    REPAIR_STICKER_FACILITY_LIMIT = os.environ.get("REPAIR_STICKER_FACILITY_LIMIT", "10 per day")
    # Uploaded photos live outside the web root and are served only after a permission check.
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    TRUST_PROXY_HOPS = int(os.environ.get("TRUST_PROXY_HOPS", "0"))

    # Background jobs: an RQ queue on this Redis (`flask jobs worker`, `flask jobs
    # scheduler`); empty runs each job in this process when its request ends.
    QUEUE_URL = os.environ.get("QUEUE_URL", "")
    QUEUE_NAME = os.environ.get("QUEUE_NAME", "linli")
    # SMS: "log" writes each message to the log (development); "http" posts it to a
    # template-SMS gateway (SMS_GATEWAY_URL, SMS_API_KEY, SMS_SIGN_NAME).
    SMS_PROVIDER = os.environ.get("SMS_PROVIDER", "log")
    SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL", "")
    SMS_API_KEY = os.environ.get("SMS_API_KEY", "")
    SMS_SIGN_NAME = os.environ.get("SMS_SIGN_NAME", "邻里")
    SMS_TIMEOUT_SECONDS = float(os.environ.get("SMS_TIMEOUT_SECONDS", "5"))
    # No SMS between these Beijing times: held until the morning.
    SMS_QUIET_START = os.environ.get("SMS_QUIET_START", "21:00")
    SMS_QUIET_END = os.environ.get("SMS_QUIET_END", "08:00")
    SMS_DAILY_CAP = int(os.environ.get("SMS_DAILY_CAP", "3"))  # per person per Beijing day
    SMS_MAX_ATTEMPTS = int(os.environ.get("SMS_MAX_ATTEMPTS", "6"))
    # The gateway's delivery reports and replies (回复TD) prove themselves with this.
    SMS_CALLBACK_TOKEN = os.environ.get("SMS_CALLBACK_TOKEN", "")
    # Template codes registered with the provider, by message kind (JSON); a kind not
    # named uses LINLI_<KIND>.
    SMS_TEMPLATES = json.loads(os.environ.get("SMS_TEMPLATES", "{}"))


class DevelopmentConfig(Config):
    DEBUG = False
    SECRET_KEY = os.environ.get("SECRET_KEY") or _dev_secret_key()


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    RATELIMIT_STORAGE_URI = os.environ.get("TEST_RATELIMIT_STORAGE_URI", "memory://")
    # Each xdist worker counts in a Redis database of its own (resets never cross).
    if RATELIMIT_STORAGE_URI.startswith("redis://") and os.environ.get(
        "PYTEST_XDIST_WORKER", ""
    ).startswith("gw"):
        _base, _, _db = RATELIMIT_STORAGE_URI.rpartition("/")
        if _db.isdigit():
            RATELIMIT_STORAGE_URI = (
                f"{_base}/{int(_db) - int(os.environ['PYTEST_XDIST_WORKER'][2:])}"
            )
    PUBLIC_BASE_URL = "http://localhost"
    # One cheap round instead of scrypt: the suite creates hundreds of accounts.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"


class ProductionConfig(Config):
    # Several workers on several machines: a shared store or none.
    PAGE_CACHE_URL = os.environ.get("PAGE_CACHE_URL", "")
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
