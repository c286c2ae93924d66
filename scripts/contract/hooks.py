"""Schemathesis hooks for Tainá's contract run (scripts/test-contract.sh).

- Authentication: every request carries a bearer token of the account named by
  TAINA_CONTRACT_EMAIL / TAINA_CONTRACT_PASSWORD. The run itself signs out, revokes sessions
  and so on (those operations are tested too), so the token is fetched again whenever the
  server answers 401. The sign-in is sent from another loopback address (127.0.0.2), because
  the fuzzer's own sign-in attempts with made-up emails lock 127.0.0.1 out by design (the
  per-network sign-in throttle), and the real user must still get in.
- `Upload-Metadata` (format `tus-upload-metadata`, which JSON Schema cannot state) is generated
  as the document describes it: base64 pairs of the keys it names, with values of their kind.
- Bodies of tus PATCH requests (`application/offset+octet-stream`) are sent as raw bytes.
- A connection answered `101 Switching Protocols` (the WebSocket handshake at `/api/v1/ws`)
  speaks WebSocket from then on, not HTTP: it is closed instead of going back to the pool, where
  the next request would be sent into the socket as if it were a WebSocket frame.
"""

import base64
import datetime
import http.client
import json
import os

import schemathesis
from hypothesis import strategies as st

SIGN_IN_FROM = "127.0.0.2"


def _sign_in() -> str:
    host = os.environ["TAINA_CONTRACT_HOST"]
    port = int(os.environ["TAINA_CONTRACT_PORT"])
    body = json.dumps(
        {
            "email": os.environ["TAINA_CONTRACT_EMAIL"],
            "password": os.environ["TAINA_CONTRACT_PASSWORD"],
        }
    )
    conn = http.client.HTTPConnection(host, port, timeout=30, source_address=(SIGN_IN_FROM, 0))
    try:
        conn.request("POST", "/api/v1/auth/login", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        payload = response.read()
        if response.status != 200:
            raise RuntimeError(f"sign-in answered {response.status}: {payload[:200]!r}")
        return json.loads(payload)["token"]
    finally:
        conn.close()


_token = None


@schemathesis.auth(refresh_interval=None)
class SessionToken:
    """The account's session token; signed in again once the run has ended it."""

    def get(self, case, ctx):
        global _token
        if _token is None:
            _token = _sign_in()
        return _token

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def after_call(ctx, case, response):
    # The token this case carried has ended (signed out, revoked): sign in again next time.
    global _token
    sent = response.request.headers.get("Authorization", "")
    if response.status_code == 401 and _token is not None and sent == f"Bearer {_token}":
        _token = None


def _never_reuse_upgraded(response, *args, **kwargs):
    if response.status_code == 101:
        connection = getattr(response.raw, "connection", None)
        if connection is not None:
            connection.close()
    return response


@schemathesis.hook
def before_call(ctx, case, kwargs):
    hooks = kwargs.setdefault("hooks", {})
    hooks.setdefault("response", []).append(_never_reuse_upgraded)


schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


def _pair(key, values):
    return values.map(lambda v: f"{key} {base64.b64encode(v.encode()).decode()}")


# A file name as the document states it (no `/`, `\`, control characters; not `.` or `..`).
_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="/\\"),
    min_size=1,
    max_size=60,
).filter(lambda n: n.strip() not in ("", ".", ".."))
_metadata_pairs = st.one_of(
    _pair("filename", _names),
    _pair("folder_id", st.sampled_from(["root", "community"])),
    _pair("on_conflict", st.sampled_from(["rename", "replace"])),
    _pair("photo", st.sampled_from(["true", "1", "false"])),
    _pair(
        "modified_at",
        st.datetimes(
            min_value=datetime.datetime(1971, 1, 1),
            max_value=datetime.datetime(2100, 1, 1),
            timezones=st.just(datetime.timezone.utc),
        ).map(lambda d: d.isoformat().replace("+00:00", "Z")),
    ),
)
schemathesis.openapi.format(
    "tus-upload-metadata",
    st.lists(_metadata_pairs, min_size=0, max_size=5, unique_by=lambda p: p.split(" ")[0]).map(",".join),
)
