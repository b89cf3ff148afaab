"""One span as OTLP/HTTP JSON, built and sent with the standard library only (the example CLIs' exporter;
a real CLI would use Logfire's SDK or the OpenTelemetry SDK). Logfire, and the broker's dev ingest, take
the write token as the raw ``Authorization`` header at ``{base}/v1/traces``."""

import json
import os
import time
from typing import Dict
from urllib.parse import urlsplit


def span_payload(name: str, start_ns: int, end_ns: int, resource: Dict[str, str], attributes: Dict[str, object]) -> bytes:
    def value(v: object) -> Dict[str, object]:
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        return {"stringValue": str(v)}

    def kv(items: Dict[str, object]):
        return [{"key": k, "value": value(v)} for k, v in items.items()]

    span = {
        "traceId": os.urandom(16).hex(),
        "spanId": os.urandom(8).hex(),
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(end_ns),
        "attributes": kv(attributes),
        "status": {},
    }
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": kv(dict(resource))},
                "scopeSpans": [{"scope": {"name": "hello-cli"}, "spans": [span]}],
            }
        ]
    }
    return json.dumps(body).encode("utf-8")


def send_traces(base_url: str, token: str, payload: bytes, timeout: float) -> int:
    """POSTs the batch; the HTTP status (200 when accepted). Raises OSError when the ingest is unreachable."""
    import http.client

    parts = urlsplit(base_url.rstrip("/") + "/v1/traces")
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    try:
        conn.request("POST", parts.path, body=payload, headers={"Content-Type": "application/json", "Authorization": token})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def now_ns() -> int:
    return time.time_ns()


def print_span(payload: bytes, stream) -> None:
    """The dry run's output: the span that would have been sent (no token in it)."""
    stream.write(f"[hello-cli telemetry] would send span: {payload.decode('utf-8')}\n")
