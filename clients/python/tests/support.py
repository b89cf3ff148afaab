"""Real parts for the tests: the local broker (`npm start`'s command, `node --import tsx
functions/local/main.ts`) as a child process on 127.0.0.1 at a free port with its own data folder, a
counting proxy in front of it, a server that never answers, busy processes, and the example CLI run as a
real child process with its own home folder."""

import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
REPO_ROOT = os.path.dirname(os.path.dirname(PACKAGE_ROOT))
SRC = os.path.join(PACKAGE_ROOT, "src")
HELLO_CLI = os.path.join(PACKAGE_ROOT, "examples", "hello_cli.py")
LISTENING = re.compile(r"logfire-broker listening on (http://127\.0\.0\.1:\d+)")
QUOTAS_OFF = {
    name: "0"
    for name in (
        "BROKER_QUOTA_MINTS_PER_INSTALL_PER_DAY",
        "BROKER_QUOTA_MINTS_PER_IP_PER_HOUR",
        "BROKER_QUOTA_MINTS_PER_NETWORK_PER_HOUR",
        "BROKER_QUOTA_MINTS_PER_DAY",
        "BROKER_QUOTA_HEARTBEATS_PER_TOKEN_PER_HOUR",
        "BROKER_QUOTA_REFRESHES_PER_TOKEN_PER_HOUR",
    )
}
SECRET = re.compile(r"\b(?:dev_wt_|lfb_cs_)[A-Za-z0-9_-]{16,}")

_cleanup: List = []
atexit.register(lambda: [fn() for fn in reversed(_cleanup)])


class LocalBroker:
    def __init__(self, env: Optional[Dict[str, str]] = None) -> None:
        self.data_dir = tempfile.mkdtemp(prefix="logfire-broker-py-data-")
        child_env = {k: v for k, v in os.environ.items() if not k.startswith(("BROKER_", "LOGFIRE_"))}
        child_env.update(BROKER_PORT="0", BROKER_HOST="127.0.0.1", BROKER_DATA_DIR=self.data_dir, **QUOTAS_OFF)
        child_env.update(env or {})
        self._text = ""
        self._lock = threading.Lock()
        self.process = subprocess.Popen(
            ["node", "--import", "tsx", os.path.join("functions", "local", "main.ts")],
            cwd=REPO_ROOT,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _cleanup.append(self.stop)
        threading.Thread(target=self._collect, daemon=True).start()
        end = time.monotonic() + 60
        while time.monotonic() < end:
            match = LISTENING.search(self.output())
            if match:
                self.url = match.group(1)
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the local broker did not start:\n{self.output()}")

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in iter(self.process.stdout.readline, b""):
            with self._lock:
                self._text += line.decode("utf-8", "replace")

    def output(self) -> str:
        with self._lock:
            return self._text

    def trace_batches(self) -> List[dict]:
        lines = []
        for line in self.output().splitlines():
            if '"dev upstream received traces"' in line:
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    pass
        return lines

    def wait_for_batches(self, count: int, seconds: float = 5.0) -> int:
        end = time.monotonic() + seconds
        while len(self.trace_batches()) < count and time.monotonic() < end:
            time.sleep(0.05)
        return len(self.trace_batches())

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.process.pid, signal.SIGKILL)
        shutil.rmtree(self.data_dir, ignore_errors=True)


_shared: Optional[LocalBroker] = None


def shared_broker() -> LocalBroker:
    """One broker for the whole suite (it takes seconds to start on a busy machine)."""
    global _shared
    if _shared is None:
        _shared = LocalBroker()
    return _shared


class CountingProxy:
    """Forwards every request to the broker and records it: the test sees each call the client made."""

    def __init__(self, target: str) -> None:
        host, port = target.replace("http://", "").split(":")
        self.requests: List[Dict[str, str]] = []
        self.connections = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                observed = {"method": "POST", "path": self.path, "body": body.decode("utf-8", "replace"), "status": 0}
                proxy.requests.append(observed)
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request("POST", self.path, body=body, headers=headers)
                reply = conn.getresponse()
                data = reply.read()
                observed["status"] = reply.status
                self.send_response(reply.status)
                for key, value in reply.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                conn.close()

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self):
                proxy.connections += 1
                return super().get_request()

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        _cleanup.append(self.close)

    def calls(self) -> List[str]:
        return [f"{r['method']} {re.sub(r'tok_[A-Za-z0-9_-]+', '{id}', r['path'])}" for r in self.requests]

    def mints(self) -> List[Dict[str, str]]:
        """The mints the broker accepted (201). A broker older than remote client settings refuses the
        mint body's ``client`` field with a 400 first; the client then mints once more without it."""
        return [r for r in self.requests if r["path"] == "/v1/tokens" and r["status"] == 201]

    def reset(self) -> None:
        self.requests.clear()
        self.connections = 0

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class SilentServer:
    """Accepts connections, counts them, never answers: a hung broker, or proof no connection was made."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self.connections = 0
        self._held: List[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()
        _cleanup.append(self.close)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._socket.accept()
            except OSError:
                return
            self.connections += 1
            self._held.append(conn)

    def close(self) -> None:
        for conn in self._held:
            conn.close()
        self._socket.close()


def closed_port_url() -> str:
    """A loopback URL nothing listens on (a broker that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def temp_home(test) -> str:
    home = tempfile.mkdtemp(prefix="logfire-broker-py-home-")
    test.addCleanup(shutil.rmtree, home, True)
    return home


def cli_env(home: str, broker_url: str, extra: Optional[Dict[str, Optional[str]]] = None) -> Dict[str, str]:
    """A minimal environment: the developer's or CI's own variables (CI, DO_NOT_TRACK, HELLO_*) must not
    change what a test sees."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "HOME": home,
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "HELLO_BROKER_URL": broker_url,
        "PYTHONPATH": SRC,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


class CliRun:
    def __init__(self, code: int, stdout: str, stderr: str, seconds: float) -> None:
        self.code, self.stdout, self.stderr, self.seconds = code, stdout, stderr, seconds


def start_cli(home: str, broker_url: str, args=(), env=None) -> "subprocess.Popen[bytes]":
    return subprocess.Popen(
        [sys.executable, HELLO_CLI, *args],
        env=cli_env(home, broker_url, env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def run_cli(home: str, broker_url: str, args=(), env=None, timeout: float = 30) -> CliRun:
    started = time.monotonic()
    child = start_cli(home, broker_url, args, env)
    stdout, stderr = child.communicate(timeout=timeout)
    return CliRun(child.returncode, stdout.decode(), stderr.decode(), time.monotonic() - started)


def config_dir(home: str) -> str:
    return os.path.join(home, ".config", "logfire-broker")


def cached_token(home: str) -> Optional[dict]:
    directory = config_dir(home)
    for name in sorted(os.listdir(directory)) if os.path.isdir(directory) else []:
        if name.endswith(".token.json"):
            with open(os.path.join(directory, name), encoding="utf-8") as file:
                return json.load(file)
    return None


class Busy:
    """CPU-bound child processes, each ending by itself after ``seconds``, stopped early by ``stop()``."""

    def __init__(self, count: int, seconds: float) -> None:
        loop = f"import time\nend = time.time() + {seconds}\nwhile time.time() < end: pass"
        self._children = [subprocess.Popen([sys.executable, "-c", loop]) for _ in range(count)]

    def stop(self) -> None:
        for child in self._children:
            child.kill()
        for child in self._children:
            child.wait()
