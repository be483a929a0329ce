"""Uploaded photos live outside the web root and are sent only after a permission check."""

from pathlib import Path

from flask import current_app, make_response, send_from_directory


def upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def send_photo(stored_name: str):
    """A stored JPEG for a person already allowed to see it (never cached publicly)."""
    response = make_response(send_from_directory(upload_dir(), stored_name, mimetype="image/jpeg"))
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
