"""The client: the gates (opt-out, notice, dry run, remote settings), the cached fast path and, when the
cache is not enough, one network episode per run (``_flow.py``), as the Node client does
(clients/node/src/client.ts). Nothing it does on behalf of the host raises; a failure turns telemetry off
for the rest of the run. The network modules are imported on first use: a warm-cache run never loads them.
"""

import os
import sys
import threading
import time
from typing import Any, Callable, Dict, Mapping, Optional, TextIO, Union

from ._cache import cache_paths, default_cache_dir, format_time, read_token_cache
from ._conventions import current_platform, default_notice, read_settings
from ._preferences import PreferenceFiles, PreferenceStore

__version__ = "0.1.0"
DEFAULT_BUDGET_SECONDS = 1.5
MAX_METADATA_ENTRIES = 20


def _normalize_url(raw: str) -> Optional[str]:
    """``origin + pathname`` without trailing slashes, as the Node client's ``new URL()`` gives it (the
    token file's name and content depend on it, so both clients must agree)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(str(raw).strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default_port = 80 if scheme == "http" else 443
    origin = f"{scheme}://{host}" + ("" if port in (None, default_port) else f":{port}")
    return (origin + (parts.path or "/")).rstrip("/")


class BrokerClient:
    """A cached, budgeted, opt-out-aware Logfire write token for one CLI installation.

    Example::

        client = BrokerClient("https://telemetry.example.com", "mycli", "1.4.0")
        client.notice_once()                  # first run only: prints the notice to stderr
        client.configure_logfire(logfire)     # or client.write_token() / client.otel_environment()
    """

    def __init__(
        self,
        broker_url: str,
        app_name: str,
        app_version: str,
        *,
        budget_seconds: float = DEFAULT_BUDGET_SECONDS,
        notice: Union[str, bool, None] = None,
        cache_dir: Optional[str] = None,
        env: Optional[Mapping[str, str]] = None,
        stderr: Optional[TextIO] = None,
        platform: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
        now: Optional[Callable[[], float]] = None,
    ) -> None:
        self._app_name = str(app_name or "")
        self._app_version = str(app_version or "")
        self._env = os.environ if env is None else env
        self._settings = read_settings(self._app_name, self._env)
        self._broker_url = _normalize_url(broker_url)
        ok_budget = isinstance(budget_seconds, (int, float)) and 0 < budget_seconds < float("inf")
        self._budget = float(budget_seconds) if ok_budget else DEFAULT_BUDGET_SECONDS
        self._notice = notice
        self._stderr = stderr
        self._platform = platform
        self._metadata = dict(metadata or {})
        self._now = now or time.time
        directory = cache_dir if cache_dir is not None else default_cache_dir(self._env)
        self._has_cache_dir = directory is not None
        url_for_files = self._broker_url or str(broker_url)
        self._paths = cache_paths(directory or ".", url_for_files, self._app_name)
        self._prefs = PreferenceStore(
            PreferenceFiles(
                self._paths.dir,
                self._paths.preferences_file,
                self._paths.token_file,
                url_for_files,
                self._app_name,
                self._has_cache_dir,
                self._log,
            )
        )
        self._printed: set = set()
        self._record: Optional[Dict[str, Any]] = None
        self._record_loaded = False
        self._off_reason: Optional[str] = None
        self._notice_shown_now = False
        self._dry_run_described = False
        self._renewed = False
        self._lock = threading.RLock()

    # --- what the host reads -------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        """False when ``DO_NOT_TRACK=1``, ``<APP>_TELEMETRY=0`` or ``disable()`` was called."""
        return not self._settings.opt_out and not (self._prefs.peek() or {}).get("disabled")

    @property
    def debug(self) -> bool:
        """``<APP>_TELEMETRY_DEBUG=1``: a dry run; nothing is sent, the client prints what it would do."""
        return self._settings.debug == "dry-run"

    @property
    def ci(self) -> Optional[str]:
        """The detected CI provider, e.g. ``github-actions``, or None."""
        return self._settings.ci

    @property
    def cache_file(self) -> str:
        """The token cache file for this broker and app (0600), e.g. for a ``telemetry status`` command."""
        return self._paths.token_file

    def write_token(self) -> Optional[str]:
        """The write token for this run, or None when telemetry is off for it (opted out, notice not shown
        yet, dry run, paused, turned off by the broker, broker unreachable within the budget). Never raises.
        With a warm cache it makes no network call."""
        try:
            with self._lock:
                return self._write_token()
        except Exception as error:  # noqa: BLE001 -- nothing may reach the host
            return self._turn_off(error)

    def ingest_base_url(self) -> Optional[str]:
        """Where to send OTLP (the broker's ``ingest.baseUrl``, cached), or None like ``write_token()``."""
        token = self.write_token()
        return None if token is None or self._record is None else self._record.get("ingestBaseUrl")

    def sample_rate(self) -> float:
        """The share of traces to keep (the broker's remote settings; 1.0 without any)."""
        settings = (self._record or {}).get("settings")
        rate = settings.get("sampleRate", 1) if isinstance(settings, dict) else 1
        return float(rate) if isinstance(rate, (int, float)) and 0 <= rate <= 1 else 1.0

    def resource_attributes(self) -> Dict[str, str]:
        """``service.name``, ``service.version``, ``logfire_broker.install_id``, ``logfire_broker.platform``
        and ``ci`` (in CI). Opted-out users get no install id created on their behalf."""
        try:
            prefs = self._prefs.get() if self.enabled else self._prefs.peek()
            install_id = (prefs or {}).get("installId")
        except Exception as error:  # noqa: BLE001
            self._log(str(error))
            install_id = None
        return self._attributes(install_id)

    # --- what the host does --------------------------------------------------------------------------

    def notice_once(self) -> bool:
        """Prints the first-run notice to stderr once per user and app; True if it printed now."""
        try:
            if self._notice is False or not self.enabled or (self._prefs.peek() or {}).get("noticeShownAt"):
                return False
            if self._prefs.refusal():  # a refused cache cannot remember it, and telemetry is off anyway
                return False
            text = self._notice if isinstance(self._notice, str) else default_notice(self._app_name, self._settings.prefix)
            self._write_stderr(text if text.endswith("\n") else text + "\n")
            self._notice_shown_now = True
            self._prefs.update(noticeShownAt=format_time(self._now()))
            return True
        except Exception as error:  # noqa: BLE001
            self._log(f"could not show the notice: {error}")
            return False

    def disable(self) -> None:
        """Turns telemetry off for this user and app, persistently (``mycli telemetry disable``)."""
        self._safely(lambda: self._prefs.update(disabled=True))

    def enable(self) -> None:
        """Undoes ``disable()``. The environment's opt-outs still win."""
        self._safely(lambda: self._prefs.update(disabled=False))

    def reset(self) -> bool:
        """Logs this installation out: revokes its token at the broker (within the budget), deletes the
        token cache and starts a new install id (the opt-out and the notice are kept). True when the broker
        confirmed the revocation or there was nothing to revoke. No network under ``DO_NOT_TRACK`` or
        ``<APP>_TELEMETRY=0``, nor in a dry run. Never raises."""
        try:
            with self._lock:
                from ._reset import reset_installation

                return reset_installation(self)
        except Exception as error:  # noqa: BLE001
            self._log(f"reset failed: {error}")
            return False

    def flush(self, fn: Callable[[], Any]) -> None:
        """Runs ``fn`` (e.g. ``logfire.force_flush``) for at most the budget, in a daemon thread that never
        keeps the process alive. Never raises."""
        failure: list = []

        def work() -> None:
            try:
                fn()
            except BaseException as error:  # noqa: BLE001
                failure.append(error)

        try:
            worker = threading.Thread(target=work, name="logfire-broker-flush", daemon=True)
            worker.start()
            worker.join(self._budget)
            if worker.is_alive():
                self._log(f"flush did not finish within {round(self._budget * 1000)} ms; pending telemetry dropped")
            elif failure:
                self._log(f"flush failed: {failure[0]}")
        except Exception as error:  # noqa: BLE001
            self._log(f"flush failed: {error}")

    def configure_logfire(self, logfire: Any, **options: Any) -> Any:
        """Calls ``logfire.configure(...)`` on the author's imported ``logfire`` module (this package never
        imports it) with the token resolved now (Logfire takes a string, not a callable),
        ``advanced=logfire.AdvancedOptions(base_url=...)``, service name and version, the resource
        attributes, ``console=False`` unless in debug, ``sampling`` when the broker asks for a sample rate,
        and ``send_to_logfire=False`` when telemetry is off. ``options`` are passed through (yours win).
        Returns what ``configure`` returns, or None if it raised (telemetry is then off)."""
        from ._integrations import logfire_configure_options

        try:
            return logfire.configure(**{**logfire_configure_options(self, logfire), **options})
        except Exception as error:  # noqa: BLE001
            self._log(f"logfire.configure failed: {error}")
            return None

    def otel_environment(self) -> Dict[str, str]:
        """Variables for the plain OpenTelemetry SDK: ``OTEL_EXPORTER_OTLP_ENDPOINT``,
        ``OTEL_EXPORTER_OTLP_HEADERS`` (the token), ``OTEL_RESOURCE_ATTRIBUTES`` and, with a remote sample
        rate, ``OTEL_TRACES_SAMPLER``; ``OTEL_SDK_DISABLED=true`` when telemetry is off. Never raises."""
        from ._integrations import otel_environment

        try:
            return otel_environment(self)
        except Exception as error:  # noqa: BLE001
            self._log(f"could not build the OpenTelemetry environment: {error}")
            return {"OTEL_SDK_DISABLED": "true"}

    # --- inside --------------------------------------------------------------------------------------

    def _write_token(self) -> Optional[str]:
        gate = self._gate()
        if gate:
            self._log(gate)
            return None
        if self.debug:
            self._describe_dry_run()
            return None
        if self._off_reason:
            return None
        install_id = self._prefs.get()["installId"]
        if not self._record_loaded:
            self._record_loaded = True
            read = read_token_cache(self._paths.token_file, self._broker_url or "", self._app_name)
            self._record = read.value
            if read.kind == "refused":
                return self._turn_off(read.problem)
            if read.problem:
                self._log(read.problem)
        from ._judge import judge

        verdict = judge(self._record, self._now(), install_id)
        if verdict in ("use", "paused"):
            return self._usable(verdict)
        if self._renewed:  # one network episode per run
            return None
        self._renewed = True
        return self._renew(install_id)

    def _usable(self, verdict: str) -> Optional[str]:
        from ._judge import paused_reason, settings_off_reason

        record = self._record or {}
        if verdict == "paused":
            self._log(paused_reason(record))
            return None
        off = settings_off_reason(record)
        if off:
            self._log(f"telemetry is off: {off}")
            return None
        if self.sample_rate() < 1:
            self._log(f"the broker asks to sample traces at {self.sample_rate()}")
        return record.get("writeToken")

    def _renew(self, install_id: str) -> Optional[str]:
        from ._flow import FlowContext, renew_token
        from ._protocol import CLIENT_NAME

        result = renew_token(
            FlowContext(
                paths=self._paths,
                broker_url=self._broker_url or "",
                app_name=self._app_name,
                app_version=self._app_version,
                install_id=install_id,
                reload_install_id=self._prefs.reload,
                platform=self._platform_name(),
                metadata=self._mint_metadata(),
                client={"name": CLIENT_NAME, "version": __version__},
                now=self._now,
                budget_seconds=self._budget,
                log=self._log,
            )
        )
        self._record = result.record
        if result.off:
            self._log(result.off)
            return None
        return self._usable("use") if self._record else None

    def _gate(self) -> Optional[str]:
        """Why telemetry is off before anything touches the network, if it is."""
        if self._settings.opt_out:
            return f"telemetry is off: {self._settings.opt_out}"
        if not self._broker_url:
            return "telemetry is off: broker_url is not an http(s) URL"
        if not self._has_cache_dir:
            return "telemetry is off: there is no per-user config directory (pass cache_dir)"
        refused = self._prefs.refusal()
        if refused:
            return f"telemetry is off: {refused}"
        prefs = self._prefs.peek() or {}
        if prefs.get("disabled"):
            return f"telemetry is off: disabled for {self._app_name} (enable() turns it back on)"
        if self._notice is not False and not self._notice_shown_now and not prefs.get("noticeShownAt"):
            return "telemetry is off until the first-run notice has been shown (notice_once())"
        return None

    def _turn_off(self, error: Any) -> None:
        self._off_reason = str(error)
        self._log(f"telemetry is off for this run: {self._off_reason}")
        return None

    def _describe_dry_run(self) -> None:
        """Prints, once per run, what a real run would do (``<APP>_TELEMETRY_DEBUG=1``). Reads, never sends."""
        if self._dry_run_described:
            return
        self._dry_run_described = True
        from ._judge import dry_run_lines

        install_id = self._prefs.get()["installId"]
        record = read_token_cache(self._paths.token_file, self._broker_url or "", self._app_name).value
        for line in dry_run_lines(
            record=record,
            install_id=install_id,
            now=self._now(),
            app=f"{self._app_name}@{self._app_version}",
            broker_url=self._broker_url or "",
            platform=self._platform_name(),
            ci=self.ci,
            attributes=self._attributes(install_id),
            prefix=self._settings.prefix,
        ):
            self._log(line)

    def _attributes(self, install_id: Optional[str]) -> Dict[str, str]:
        attributes = {"service.name": self._app_name, "service.version": self._app_version}
        if install_id:
            attributes["logfire_broker.install_id"] = install_id
        attributes["logfire_broker.platform"] = self._platform_name()
        if self.ci:
            attributes["ci"] = self.ci
        return attributes

    def _platform_name(self) -> str:
        return self._platform or current_platform()

    def _mint_metadata(self) -> Dict[str, str]:
        entries = [(str(k), str(v)) for k, v in self._metadata.items() if k != "ci"]
        if self.ci:
            entries.insert(0, ("ci", self.ci))
        return dict(entries[:MAX_METADATA_ENTRIES])

    def _write_stderr(self, text: str) -> None:
        stream = self._stderr if self._stderr is not None else sys.stderr
        if stream is not None:
            stream.write(text)
            stream.flush()

    def _safely(self, work: Callable[[], Any]) -> Any:
        try:
            return work()
        except Exception as error:  # noqa: BLE001
            self._log(str(error))
            return None

    def _log(self, line: str) -> None:
        """A debug line, printed once per run when ``<APP>_TELEMETRY_DEBUG`` is set. Secrets are masked."""
        if self._settings.debug == "off" or line in self._printed:
            return
        self._printed.add(line)
        text = line
        for secret in ((self._record or {}).get("writeToken"), (self._record or {}).get("clientSecret")):
            if isinstance(secret, str) and secret:
                text = text.replace(secret, "[redacted]")
        try:
            self._write_stderr(f"[{self._app_name} telemetry] {text}\n")
        except Exception:  # noqa: BLE001 -- a closed stderr must not break the host
            pass
