"""What the cache alone allows (no network module is loaded here: this is the warm path), and the words
for it: the Node client's ``judge()`` and dry run (clients/node/src/tokenFlow.ts, dryRun.ts)."""

import json
from typing import Any, Dict, List, Optional

from ._cache import format_time, parse_time

EXPIRY_MARGIN_SECONDS = 60.0
"""A token this close to its expiry is treated as expired: it could die in the middle of the run."""
CLOCK_SKEW_SECONDS = 300.0
"""A last heartbeat this far in the future means the clock moved back: check in again."""

Record = Dict[str, Any]


def judge(record: Optional[Record], now: float, install_id: str) -> str:
    """``use`` and ``paused`` need no network; ``missing``, ``expired`` and ``heartbeat-due`` do."""
    if not record or record.get("installId") != install_id:
        return "missing"
    if (parse_time(record["expiresAt"]) or 0) - EXPIRY_MARGIN_SECONDS <= now:
        return "expired"
    since = now - (parse_time(record["lastHeartbeatAt"]) or 0)
    if since < -CLOCK_SKEW_SECONDS or since >= record["heartbeatIntervalSeconds"]:
        return "heartbeat-due"
    return "paused" if record.get("status") == "paused" else "use"


def next_heartbeat_at(record: Record) -> str:
    return format_time((parse_time(record["lastHeartbeatAt"]) or 0) + record["heartbeatIntervalSeconds"])


def paused_reason(record: Record) -> str:
    return (
        f"the broker paused token {record['tokenId']}: telemetry is off until the next heartbeat "
        f"(after {next_heartbeat_at(record)})"
    )


def settings_off_reason(record: Optional[Record]) -> Optional[str]:
    """Why the broker's remote client settings turn telemetry off, if they do."""
    settings = (record or {}).get("settings")
    if not isinstance(settings, dict) or settings.get("telemetry") != "off":
        return None
    reason = settings.get("reason")
    if reason == "client_outdated":
        return (
            "the broker turned telemetry off for this client library: it needs version "
            f"{settings.get('minClientVersion', '?')} or newer (client_outdated)"
        )
    return f"the broker turned telemetry off for this app version ({reason or 'remote settings'})"


def dry_run_lines(
    *,
    record: Optional[Record],
    install_id: str,
    now: float,
    app: str,
    broker_url: str,
    platform: str,
    ci: Optional[str],
    attributes: Dict[str, str],
    prefix: str,
) -> List[str]:
    """What a real run would do, in words. Built from ids and timestamps only: never a secret."""
    mint_line = (
        f"would mint a token for {app} at {broker_url} "
        f"(install id {install_id}, platform {platform}{', ci ' + ci if ci else ''})"
    )
    verdict = judge(record, now, install_id)
    if verdict == "use":
        line = f"would use the cached token {record['tokenId']} (next heartbeat after {next_heartbeat_at(record)})"  # type: ignore[index,arg-type]
    elif verdict == "paused":
        line = paused_reason(record)  # type: ignore[arg-type]
    elif verdict == "heartbeat-due":
        line = f"would send a heartbeat for token {record['tokenId']} to {broker_url}"  # type: ignore[index]
    elif verdict == "expired":
        line = f"the cached token {record['tokenId']} has expired: {mint_line}"  # type: ignore[index]
    else:
        line = mint_line
    return [
        line,
        f"would send telemetry with resource attributes {json.dumps(attributes, separators=(',', ':'))}",
        f"dry run ({prefix}_TELEMETRY_DEBUG): nothing is sent",
    ]
