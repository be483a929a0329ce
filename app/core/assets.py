"""Static files that phones keep: every link to a static file carries a fingerprint of
its content (`/static/css/app.css?v=1a2b3c4d5e`), and a request with the fingerprint is
answered "keep for a year, it never changes". A new release changes the fingerprint, so a
phone never keeps an old stylesheet. The fingerprint is computed once per file per
process from its bytes, so every worker on every machine gives the same one.
"""

from __future__ import annotations

import hashlib
import os

from flask import Flask, request

YEAR = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    fingerprints: dict[str, str] = {}

    def fingerprint(filename: str) -> str | None:
        if filename not in fingerprints:
            path = os.path.join(app.static_folder, filename)
            try:
                with open(path, "rb") as f:
                    fingerprints[filename] = hashlib.sha256(f.read()).hexdigest()[:10]
            except OSError:
                return None
        return fingerprints[filename]

    @app.url_defaults
    def _static_fingerprint(endpoint, values):
        if endpoint == "static" and "v" not in values and values.get("filename"):
            value = fingerprint(values["filename"])
            if value:
                values["v"] = value

    @app.after_request
    def _keep_fingerprinted(response):
        if (
            request.endpoint == "static"
            and response.status_code in (200, 304)
            and request.args.get("v")
            and request.args["v"] == fingerprint(request.view_args.get("filename", ""))
        ):
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
            response.cache_control.no_cache = None
            response.expires = None
        return response
