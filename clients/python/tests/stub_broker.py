"""A stub broker on 127.0.0.1 for what the real one cannot be made to do on cue: lose a reply after doing
the work, or answer with remote client settings before the server side of issue #10 is merged."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, Optional, Tuple
from datetime import datetime, timedelta, timezone

Answer = Optional[Tuple[int, dict]]  # None: drop the connection without a reply


def iso(delta_seconds: float) -> str:
    moment = datetime.now(timezone.utc) + timedelta(seconds=delta_seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def issued(n: int, **extra) -> dict:
    return {
        "tokenId": f"tok_stub{n:04d}",
        "writeToken": f"dev_wt_stubwritetoken{n:04d}xxxxxxxx",
        "clientSecret": f"lfb_cs_stubclientsecret{n:04d}xxxxxx",
        "expiresAt": iso(3600),
        "refreshAfter": iso(1800),
        "heartbeatIntervalSeconds": 600,
        "ingest": {"baseUrl": "http://127.0.0.1:9/"},
        **extra,
    }


class StubBroker:
    def __init__(self, answer: Callable[[str, dict, Dict[str, str]], Answer]) -> None:
        self.calls: List[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null") if length else {}
                stub.calls.append(self.path)
                reply = answer(self.path, body, dict(self.headers.items()))
                if reply is None:
                    self.close_connection = True
                    self.connection.close()
                    return
                data = json.dumps(reply[1]).encode()
                self.send_response(reply[0])
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def wait() -> None:
    time.sleep(0.01)
