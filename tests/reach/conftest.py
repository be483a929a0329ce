"""An estate whose owners have accounts, and a real local SMS gateway."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.extensions import db
from tests.decisions.conftest import estate  # noqa: F401  (the fixture)
from tests.fixtures.factories import make_user


@pytest.fixture
def owners(estate):  # noqa: F811
    """Accounts for owners A, B, C and the tenant T (D has none)."""
    users = {}
    for name in ("A", "B", "C", "T"):
        person = estate.people[name]
        users[name] = make_user(person.phone, name=person.name)
        person.user_id = users[name].id
    db.session.commit()
    return users


class Gateway:
    """A template-SMS gateway on a real port: it records every request it gets, answers
    as told (ok, 503, or a refusal), and takes each out_id once, as providers do."""

    def __init__(self):
        self.requests: list[dict] = []
        self.accepted: dict[str, dict] = {}
        self.answer = "ok"
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with gateway.lock:
                    gateway.requests.append({"auth": self.headers.get("Authorization"), **body})
                    answer = gateway.answer
                    if answer == "ok":
                        gateway.accepted.setdefault(body["out_id"], body)
                if answer == "down":
                    self.send_response(503)
                    self.end_headers()
                    return
                payload = (
                    {"code": "OK", "message_id": "gw-" + body["out_id"]}
                    if answer == "ok"
                    else {"code": "TEMPLATE_REFUSED"}
                )
                data = json.dumps(payload).encode()
                self.send_response(200 if answer == "ok" else 400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(app):
    gw = Gateway()
    app.config.update(SMS_PROVIDER="http", SMS_GATEWAY_URL=gw.url, SMS_API_KEY="k-test")
    yield gw
    gw.close()
    app.config.update(SMS_PROVIDER="log")
