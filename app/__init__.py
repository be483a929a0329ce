"""Linli application factory."""

import logging
import os
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS


def create_app(config_name: str | None = None, **overrides) -> Flask:
    """Create and configure the app; overrides win over the config class."""
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=True,
    )
    config_name = config_name or os.environ.get("LINLI_CONFIG", "development")
    app.config.from_object(CONFIGS[config_name])
    app.config.update(overrides)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Writers wait for each other instead of failing at once ("database is locked").
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
            "connect_args": {"timeout": 30},
        }
    app.config["UPLOAD_DIR"] = os.path.abspath(app.config["UPLOAD_DIR"])
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set in production.")
    if config_name == "production":
        _check_production(app.config)
    if app.config["TRUST_PROXY_HOPS"]:
        hops = app.config["TRUST_PROXY_HOPS"]
        # Client address and scheme from nginx; never a client-supplied host (QR links).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)

    from app.core.security import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter

    from app.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"

    from app.core import assets, flashing, i18n, jobs, memo, pagecache

    i18n.init_app(app)
    flashing.init_app(app)
    app.before_request(memo.forget)
    assets.init_app(app)
    pagecache.init_app(app)
    jobs.init_app(app)

    from app.accounts import models as _accounts_models  # noqa: F401  (register tables)
    from app.accounts.services import load_user
    from app.bookings import models as _booking_models  # noqa: F401
    from app.community import models as _community_models  # noqa: F401
    from app.core import settings as _settings  # noqa: F401
    from app.decisions import models as _decision_models  # noqa: F401
    from app.dues import models as _dues_models  # noqa: F401
    from app.repairs import models as _repair_models  # noqa: F401

    login_manager.user_loader(load_user)
    login_manager.login_message = i18n.lazy("Please sign in to see this page.")
    login_manager.login_message_category = "info"

    from app.accounts import bp as accounts_bp
    from app.bookings import bp as bookings_bp
    from app.community import bp as community_bp
    from app.core import bp as core_bp
    from app.core import security
    from app.decisions import bp as decisions_bp
    from app.dues import bp as dues_bp
    from app.portal import bp as portal_bp
    from app.programme import bp as programme_bp
    from app.programme import models as _programme_models  # noqa: F401
    from app.reach import bp as reach_bp
    from app.repairs import bp as repairs_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(community_bp)
    app.register_blueprint(decisions_bp)
    app.register_blueprint(bookings_bp)
    app.register_blueprint(repairs_bp)
    app.register_blueprint(dues_bp)
    app.register_blueprint(programme_bp)
    app.register_blueprint(reach_bp)
    app.register_blueprint(portal_bp)
    security.init_app(app)

    from app.portal import cli

    cli.init_app(app)
    jobs.init_cli(app)

    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    return app


def _check_production(config) -> None:
    """Refuse to start a deployment that would trust the request's Host header for printed
    links, or count sign-in attempts per worker."""
    base = (config.get("PUBLIC_BASE_URL") or "").strip()
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RuntimeError(
            "PUBLIC_BASE_URL must be set in production to the portal's public address, e.g. "
            "https://linli.example.gov.cn: QR codes, letters and posters carry it, never the "
            "host a request names."
        )
    config["PUBLIC_BASE_URL"] = base.rstrip("/")
    if config.get("SMS_PROVIDER", "log") != "log" and not (config.get("QUEUE_URL") or "").strip():
        raise RuntimeError(
            "QUEUE_URL must name the Redis of the job queue when SMS_PROVIDER sends real "
            "messages: they are sent by `flask jobs worker`, never inside a request."
        )
    if (config.get("PAGE_CACHE_URL") or "").strip().startswith("memory://"):
        raise RuntimeError(
            "PAGE_CACHE_URL must name a shared store in production (redis://…) or be "
            "empty: with memory:// each worker keeps pages that another worker's writes "
            "cannot make old."
        )
    storage = (config.get("RATELIMIT_STORAGE_URI") or "").strip()
    scheme = storage.split(":", 1)[0].strip().lower()
    if not storage or scheme in ("memory", "") or "://" not in storage:
        raise RuntimeError(
            "RATELIMIT_STORAGE_URI must name a shared store in production, e.g. "
            "redis://127.0.0.1:6379/0: with memory:// each worker counts sign-in attempts "
            "on its own, so guessing is several times faster."
        )
