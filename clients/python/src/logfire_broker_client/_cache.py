"""The client's two files in the per-user config directory, in the Node client's format (clients/node/
src/cacheFiles.ts), so a Node and a Python build of one app share one install id and one token:

- ``<app>-<hash>.token.json``, one per (broker URL, app): the cached token, its client secret, timestamps;
- ``<app>-<hash>.preferences.json``, one per app: the install id, the opt-out flag, when the notice was shown.

A file that is corrupt, truncated, of another format or for another broker reads as an ``invalid``
problem (the caller replaces it); anything that is not a small regular file reads as ``refused`` (the
caller turns telemetry off and leaves it alone).
"""

import json
import os
import re
import sys
from datetime import datetime, timezone
from typing import Any, Dict, NamedTuple, Optional

from ._safe_files import create_cache_file, read_cache_file, write_cache_file

TOKEN_FORMAT = "logfire-broker-client/token/1"
PREFERENCES_FORMAT = "logfire-broker-client/preferences/1"
INSTALL_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


class CachePaths(NamedTuple):
    dir: str
    token_file: str
    preferences_file: str


class CacheRead(NamedTuple):
    """A cache file as read: ``value``, or a problem of kind ``missing``, ``invalid`` or ``refused``."""

    value: Optional[Dict[str, Any]] = None
    kind: Optional[str] = None
    problem: Optional[str] = None


def _digest(text: str, length: int) -> str:
    """Node's name hash (two FNV-1a rounds over UTF-16 code units, as JavaScript's charCodeAt sees them)."""
    units = [int.from_bytes(pair, "little") for pair in _pairs(text.encode("utf-16-le"))]

    def fnv1a(seed: int) -> str:
        value = seed
        for unit in units:
            value = ((value ^ unit) * 0x01000193) & 0xFFFFFFFF
        return format(value, "08x")

    return (fnv1a(0x811C9DC5) + fnv1a(0x9747B28C))[:length]


def _pairs(data: bytes):
    return (data[i : i + 2] for i in range(0, len(data), 2))


def default_cache_dir(env: Any = None) -> Optional[str]:
    """The per-user config directory the Node client uses (env-paths' ``config`` for ``logfire-broker``):
    ``$XDG_CONFIG_HOME/logfire-broker`` (``~/.config/logfire-broker``) on Linux,
    ``~/Library/Preferences/logfire-broker`` on macOS, ``%APPDATA%\\logfire-broker\\Config`` on Windows."""
    env = os.environ if env is None else env
    home = os.path.expanduser("~")
    if not home or home == "~":
        return None
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Preferences", "logfire-broker")
    if sys.platform == "win32":
        app_data = env.get("APPDATA") or os.path.join(home, "AppData", "Roaming")
        return os.path.join(app_data, "logfire-broker", "Config")
    return os.path.join(env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), "logfire-broker")


def cache_paths(directory: str, broker_url: str, app_name: str) -> CachePaths:
    """Where an app's files live, named exactly as the Node client names them."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", app_name.lower())
    slug = re.sub(r"^[-.]+|-+$", "", slug)[:48] or "app"
    return CachePaths(
        directory,
        os.path.join(directory, f"{slug}-{_digest(broker_url + chr(10) + app_name, 12)}.token.json"),
        os.path.join(directory, f"{slug}-{_digest(app_name, 8)}.preferences.json"),
    )


def parse_time(value: Any) -> Optional[float]:
    """Epoch seconds of an ISO 8601 time as the broker and the Node client write it, or None."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def format_time(epoch_seconds: float) -> str:
    """``2026-01-02T03:04:05.678Z``, as JavaScript's ``toISOString()``."""
    moment = datetime.fromtimestamp(epoch_seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _read_json(file: str, what: str) -> CacheRead:
    read = read_cache_file(file)
    if read.kind == "missing":
        return CacheRead(kind="missing", problem=f"no {what} yet")
    if read.kind == "refused":
        return CacheRead(kind="refused", problem=read.reason)
    if read.kind == "unreadable":
        return CacheRead(kind="invalid", problem=f"the {what} cannot be read ({read.reason}); replacing it")
    try:
        value = json.loads(read.text)
        if isinstance(value, dict):
            return CacheRead(value=value)
    except ValueError:
        pass
    return _invalid(f"the {what} is corrupt or truncated; replacing it")


def _invalid(problem: str) -> CacheRead:
    return CacheRead(kind="invalid", problem=problem)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and len(value) > 0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_token_cache(file: str, broker_url: str, app_name: str) -> CacheRead:
    """Reads the cached token for this broker and app; anything else is a ``problem`` to replace."""
    read = _read_json(file, "token cache")
    if read.value is None:
        return read
    record = read.value
    if record.get("format") != TOKEN_FORMAT:
        return _invalid("the token cache has an unknown format; replacing it")
    if record.get("brokerUrl") != broker_url or record.get("app") != app_name:
        return _invalid("the token cache was written for another broker or app; replacing it")
    valid = (
        _is_text(record.get("installId"))
        and INSTALL_ID.match(record["installId"]) is not None
        and all(_is_text(record.get(key)) for key in ("tokenId", "writeToken", "clientSecret", "ingestBaseUrl"))
        and all(parse_time(record.get(key)) is not None for key in ("expiresAt", "refreshAfter", "lastHeartbeatAt"))
        and _is_number(record.get("heartbeatIntervalSeconds"))
        and record["heartbeatIntervalSeconds"] > 0
        and record.get("status") in ("active", "paused")
    )
    if not valid:
        return _invalid("the token cache is incomplete; replacing it")
    return CacheRead(value=record)


def read_preferences(file: str, app_name: str) -> CacheRead:
    """Reads an app's preferences (install id, opt-out, notice)."""
    read = _read_json(file, "preferences file")
    if read.value is None:
        return read
    prefs = read.value
    valid = (
        prefs.get("format") == PREFERENCES_FORMAT
        and prefs.get("app") == app_name
        and _is_text(prefs.get("installId"))
        and INSTALL_ID.match(prefs["installId"]) is not None
        and isinstance(prefs.get("disabled"), bool)
        and ("noticeShownAt" not in prefs or parse_time(prefs["noticeShownAt"]) is not None)
    )
    if not valid:
        return _invalid("the preferences file is not valid; replacing it")
    return CacheRead(value=prefs)


def _serialize(value: Dict[str, Any]) -> str:
    # JSON.stringify(value, null, 2) + newline: the Node client writes the same bytes for the same record.
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def write_private_json(file: str, value: Dict[str, Any]) -> None:
    """Replaces a cache file atomically with mode 0600; raises CacheRefusedError rather than replace
    anything but a regular file."""
    write_cache_file(file, _serialize(value))


def create_private_json_exclusive(file: str, value: Dict[str, Any]) -> bool:
    """Creates a cache file only if nothing is at its path yet; False if something is."""
    return create_cache_file(file, _serialize(value))
