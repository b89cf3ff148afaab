"""The client routes of the HTTP contract v1 (DESIGN §3, docs/admin-api.md), each under the run's
deadline, with the Node client's retry rules (clients/node/src/protocol.ts). ``http.client`` rather than
``urllib.request``: it never follows a redirect (which could carry the Authorization header elsewhere) and
it loads faster. A timer shuts the socket down when the deadline comes, so a broker that trickles its reply
cannot hold the run past its budget either."""

import http.client
import json
import socket
import threading
import uuid
from typing import Any, Callable, Dict, NamedTuple, Optional, Sequence
from urllib.parse import quote, urlsplit

from ._deadline import Deadline
from ._errors import BrokerRequestError, BudgetSpentError, InvalidReplyError

CLIENT_NAME = "logfire-broker-client-python"
RETRY_WAIT_SECONDS = 0.1
"""The pause before a retry whose failure named no Retry-After."""
REFRESH_RETRY_RESERVE_SECONDS = 0.5
"""What a refresh's first attempt leaves of the budget for its retry (at most half of it)."""
MAX_REPLY_BYTES = 64 * 1024
STATUSES = ("active", "paused", "rotate", "revoked")


class BrokerHttp(NamedTuple):
    broker_url: str
    """Without a trailing slash."""
    deadline: Deadline
    log: Callable[[str], None]


class Reply(NamedTuple):
    status: int
    body: Any


def _retry_after(value: Optional[str]) -> Optional[float]:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds >= 0 else None


def _error_message(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return f"{error['code']}: {error.get('message')}"
    return "no error body"


def _connection(url: str, timeout: float) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=timeout)
    return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)


def post(
    http_: BrokerHttp,
    step: str,
    path: str,
    body: Any = None,
    headers: Optional[Dict[str, str]] = None,
    handled: Sequence[int] = (),
    attempt_seconds: Optional[float] = None,
) -> Reply:
    """POSTs to the broker under the deadline, or within ``attempt_seconds`` if shorter. Statuses in
    ``handled`` are returned; any other non-2xx status, a network failure or no reply in time raises
    BrokerRequestError, the deadline BudgetSpentError."""
    capped = attempt_seconds is not None and attempt_seconds < http_.deadline.remaining()
    limit = http_.deadline.limit(step, attempt_seconds if attempt_seconds is not None else float("inf"))
    sent_headers = {"Accept": "application/json", **(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        sent_headers["Content-Type"] = "application/json"
    url = http_.broker_url + path
    conn = _connection(url, limit)
    timed_out = threading.Event()

    def cut() -> None:
        timed_out.set()
        sock = conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    timer = threading.Timer(limit, cut)
    timer.daemon = True
    timer.start()
    try:
        conn.request("POST", urlsplit(url).path, body=data, headers=sent_headers)
        response = conn.getresponse()
        raw = response.read(MAX_REPLY_BYTES + 1)
        if timed_out.is_set():
            raise socket.timeout("deadline")
        try:
            parsed = json.loads(raw.decode("utf-8")) if raw else None
        except ValueError:
            parsed = None
        if 200 <= response.status < 300 or response.status in handled:
            return Reply(response.status, parsed)
        raise BrokerRequestError(
            f"{step}: the broker answered {response.status} ({_error_message(parsed)})",
            response.status,
            _retry_after(response.getheader("Retry-After")),
            parsed,
        )
    except BrokerRequestError:
        raise
    except (OSError, http.client.HTTPException) as error:
        if timed_out.is_set() or isinstance(error, socket.timeout):
            if capped:
                raise BrokerRequestError(f"{step}: no reply within {round(limit * 1000)} ms") from None
            raise BudgetSpentError(step, http_.deadline.budget_seconds) from None
        cause = getattr(error, "strerror", None) or type(error).__name__
        raise BrokerRequestError(f"{step}: the broker could not be reached ({cause})") from None
    finally:
        timer.cancel()
        conn.close()


def _issued_token(step: str, body: Any) -> Dict[str, Any]:
    from ._cache import parse_time

    reply = body if isinstance(body, dict) else {}
    ingest = reply.get("ingest") if isinstance(reply.get("ingest"), dict) else {}
    text = lambda value: isinstance(value, str) and len(value) > 0  # noqa: E731
    checks = [
        ("tokenId", text(reply.get("tokenId"))),
        ("writeToken", text(reply.get("writeToken"))),
        ("clientSecret", text(reply.get("clientSecret"))),
        ("expiresAt", parse_time(reply.get("expiresAt")) is not None),
        ("refreshAfter", parse_time(reply.get("refreshAfter")) is not None),
        ("heartbeatIntervalSeconds", isinstance(reply.get("heartbeatIntervalSeconds"), (int, float))),
        ("ingest.baseUrl", text(ingest.get("baseUrl"))),
    ]
    missing = [name for name, ok in checks if not ok]
    if missing:
        raise InvalidReplyError(step, "missing or invalid " + ", ".join(missing))
    return reply


def _retryable(error: BaseException) -> bool:
    if not isinstance(error, BrokerRequestError):
        return False
    return error.status is None or error.status in (409, 429) or error.status >= 500


def _with_one_retry(http_: BrokerHttp, attempt: Callable[[Optional[float]], Any], first_attempt: Optional[float] = None) -> Any:
    """Runs ``attempt``, and once more after a retryable failure when its Retry-After (or a short pause)
    still leaves time in the budget. Both attempts share the run's one deadline."""
    try:
        return attempt(first_attempt)
    except BrokerRequestError as error:
        if not _retryable(error):
            raise
        wait = error.retry_after_seconds if error.retry_after_seconds is not None else RETRY_WAIT_SECONDS
        if http_.deadline.remaining() < wait + RETRY_WAIT_SECONDS:
            raise
        http_.log(f"{error}; trying once more")
        http_.deadline.sleep(wait)
        return attempt(None)


def _refuses_client_field(error: BrokerRequestError) -> bool:
    """A broker older than remote client settings rejects the mint body's ``client`` field (400)."""
    body = error.body if isinstance(error.body, dict) else {}
    message = str((body.get("error") or {}).get("message", "")) if isinstance(body.get("error"), dict) else ""
    return error.status == 400 and "client" in message and "unknown field" in message


def mint(http_: BrokerHttp, request: Dict[str, Any]) -> Dict[str, Any]:
    """``POST /v1/tokens`` with a fresh Idempotency-Key, retried once (same key) after a fast failure, so
    a mint whose reply was lost returns the same token instead of a second one."""
    key = str(uuid.uuid4())
    body = dict(request)

    def attempt(_: Optional[float]) -> Dict[str, Any]:
        reply = post(http_, "mint", "/v1/tokens", body=body, headers={"Idempotency-Key": key})
        return _issued_token("mint", reply.body)

    try:
        return _with_one_retry(http_, attempt)
    except BrokerRequestError as error:
        if "client" not in body or not _refuses_client_field(error):
            raise
        http_.log("the broker does not know remote client settings yet; minting without the client field")
        body.pop("client")
        return _with_one_retry(http_, attempt)


def _token_path(token_id: str, action: str) -> str:
    return f"/v1/tokens/{quote(token_id, safe='')}/{action}"


def send_heartbeat(http_: BrokerHttp, token_id: str, client_secret: str) -> Dict[str, Any]:
    """``POST /v1/tokens/{id}/heartbeat``: the broker's reply, or ``{"status": "unauthorized"}`` (401) or
    ``{"status": "throttled"}`` (429: over the token's heartbeat quota; the token itself is fine)."""
    reply = post(
        http_,
        "heartbeat",
        _token_path(token_id, "heartbeat"),
        headers={"Authorization": f"Bearer {client_secret}"},
        handled=(401, 429),
    )
    if reply.status == 401:
        return {"status": "unauthorized"}
    if reply.status == 429:
        return {"status": "throttled"}
    if not isinstance(reply.body, dict) or reply.body.get("status") not in STATUSES:
        raise InvalidReplyError("heartbeat", "unknown status")
    return reply.body


def refresh(http_: BrokerHttp, token_id: str, client_secret: str) -> Dict[str, Any]:
    """``POST /v1/tokens/{id}/refresh``: ``{"status": "issued", "token": ...}``, or ``unauthorized`` (401)
    or ``forbidden`` (403). A refresh whose reply never came is sent once more with the same secret: within
    its refresh grace the broker answers a just-spent secret with the same successor."""
    left = http_.deadline.remaining()
    first_attempt = left - min(REFRESH_RETRY_RESERVE_SECONDS, left / 2)

    def attempt(attempt_seconds: Optional[float]) -> Dict[str, Any]:
        reply = post(
            http_,
            "refresh",
            _token_path(token_id, "refresh"),
            headers={"Authorization": f"Bearer {client_secret}"},
            handled=(401, 403),
            attempt_seconds=attempt_seconds,
        )
        if reply.status == 401:
            return {"status": "unauthorized"}
        if reply.status == 403:
            return {"status": "forbidden"}
        return {"status": "issued", "token": _issued_token("refresh", reply.body)}

    return _with_one_retry(http_, attempt, first_attempt)


def revoke(http_: BrokerHttp, token_id: str, client_secret: str) -> str:
    """``POST /v1/tokens/{id}/revoke`` (self-revoke): ``revoked``, ``unauthorized`` (401: already gone or
    not ours) or ``unsupported`` (404: a broker without the route)."""
    reply = post(
        http_,
        "revoke",
        _token_path(token_id, "revoke"),
        headers={"Authorization": f"Bearer {client_secret}"},
        handled=(401, 404),
    )
    return {200: "revoked", 401: "unauthorized", 404: "unsupported"}.get(reply.status, "revoked")


def settings_of(body: Any) -> Optional[Dict[str, Any]]:
    """The remote client settings a mint or heartbeat reply carries, checked, or None when it has none."""
    settings = body.get("settings") if isinstance(body, dict) else None
    if not isinstance(settings, dict) or settings.get("telemetry") not in ("on", "off"):
        return None
    rate = settings.get("sampleRate", 1)
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1:
        rate = 1
    kept: Dict[str, Any] = {"telemetry": settings["telemetry"], "sampleRate": rate}
    for key in ("reason", "minClientVersion"):
        if isinstance(settings.get(key), str):
            kept[key] = settings[key]
    return kept
