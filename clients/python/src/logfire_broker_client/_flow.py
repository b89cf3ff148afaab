"""The network side of ``write_token()``, as the Node client's tokenFlow.ts: under the inter-process lock
and one deadline, re-read the install id and the cache (another process may have done the work), then mint,
heartbeat, refresh or re-mint as the cache and the broker say, and write the result. Everything here may
raise; the client turns a raise into "telemetry off for this run"."""

from typing import Any, Callable, Dict, NamedTuple, Optional

from . import _protocol as protocol
from ._cache import TOKEN_FORMAT, CachePaths, format_time, parse_time, read_token_cache, write_private_json
from ._deadline import Deadline
from ._errors import CacheRefusedError
from ._judge import judge, paused_reason
from ._lock import token_lock
from ._safe_files import cache_dir_problem, error_code

Record = Dict[str, Any]


class FlowContext(NamedTuple):
    paths: CachePaths
    broker_url: str
    app_name: str
    app_version: str
    install_id: str
    reload_install_id: Callable[[], Optional[str]]
    platform: str
    metadata: Dict[str, str]
    client: Dict[str, str]
    now: Callable[[], float]
    budget_seconds: float
    log: Callable[[str], None]


class FlowResult(NamedTuple):
    record: Optional[Record]
    off: Optional[str] = None


def renew_token(start: FlowContext) -> FlowResult:
    """Brings the cached token up to date with the broker, holding the lock: one process mints, the
    others find its token when they get the lock."""
    unsafe = cache_dir_problem(start.paths.dir, True)  # the lock directory goes in it
    if unsafe:
        raise CacheRefusedError(unsafe)
    deadline = Deadline(start.budget_seconds)
    http_ = protocol.BrokerHttp(start.broker_url, deadline, start.log)
    with token_lock(start.paths.token_file, deadline):
        ctx = start._replace(install_id=start.reload_install_id() or start.install_id)
        read = read_token_cache(ctx.paths.token_file, ctx.broker_url, ctx.app_name)
        if read.kind == "refused":
            return FlowResult(None, f"telemetry is off: {read.problem}")
        if read.problem:
            ctx.log(read.problem)
        record = read.value
        verdict = judge(record, ctx.now(), ctx.install_id)
        if verdict == "use":
            return FlowResult(record)
        if verdict == "paused":
            return FlowResult(record, paused_reason(record))  # type: ignore[arg-type]
        if verdict == "missing":
            return _mint_and_store(ctx, http_, "no usable cached token")
        if verdict == "expired":
            return _mint_and_store(ctx, http_, f"the cached token {record['tokenId']} has expired")  # type: ignore[index]
        return _heartbeat(ctx, http_, record)  # type: ignore[arg-type]


def _heartbeat(ctx: FlowContext, http_: protocol.BrokerHttp, record: Record) -> FlowResult:
    ctx.log(f"sending a heartbeat for token {record['tokenId']} to {ctx.broker_url}")
    outcome = protocol.send_heartbeat(http_, record["tokenId"], record["clientSecret"])

    def checked(status: str) -> Record:
        updated = dict(record, status=status, lastHeartbeatAt=format_time(ctx.now()))
        interval = outcome.get("heartbeatIntervalSeconds")
        if isinstance(interval, (int, float)) and not isinstance(interval, bool) and interval > 0:
            updated["heartbeatIntervalSeconds"] = interval
        if parse_time(outcome.get("expiresAt")) is not None:
            updated["expiresAt"] = outcome["expiresAt"]
        _with_settings(updated, outcome)
        return updated

    status = outcome["status"]
    if status == "active":
        ctx.log(f"token {record['tokenId']} is active")
        return _store(ctx, checked("active"))
    if status == "paused":
        paused = checked("paused")
        return FlowResult(_store(ctx, paused).record, paused_reason(paused))
    if status == "rotate":
        return _rotate(ctx, http_, record, checked, protocol.settings_of(outcome))
    if status == "revoked":
        return _mint_and_store(ctx, http_, f"the broker revoked token {record['tokenId']}")
    if status == "throttled":
        # Not recorded as a heartbeat, so the next run checks in again; the token was good when last seen.
        ctx.log(f"the broker is rate-limiting heartbeats of token {record['tokenId']}; using the cached token")
        return FlowResult(record)
    return _mint_and_store(ctx, http_, f"the broker no longer accepts token {record['tokenId']} (401)")


def _rotate(
    ctx: FlowContext,
    http_: protocol.BrokerHttp,
    record: Record,
    checked: Callable[[str], Record],
    heartbeat_settings: Optional[Dict[str, Any]],
) -> FlowResult:
    ctx.log(f"the broker asks to rotate token {record['tokenId']}: refreshing it")
    outcome = protocol.refresh(http_, record["tokenId"], record["clientSecret"])
    if outcome["status"] == "issued":
        token = outcome["token"]
        ctx.log(f"token {record['tokenId']} was replaced by {token['tokenId']}")
        successor = _from_issued(ctx, token)
        if "settings" not in successor and heartbeat_settings is not None:
            successor["settings"] = heartbeat_settings  # the heartbeat that said rotate carried them
        return _store(ctx, successor)
    if outcome["status"] == "forbidden":
        # The broker refuses to refresh a paused token: act as a heartbeat that said `paused`.
        paused = checked("paused")
        return FlowResult(_store(ctx, paused).record, paused_reason(paused))
    return _mint_and_store(ctx, http_, f"the broker refused to refresh token {record['tokenId']} (401)")


def _mint_and_store(ctx: FlowContext, http_: protocol.BrokerHttp, why: str) -> FlowResult:
    ctx.log(f"{why}: minting a token for {ctx.app_name}@{ctx.app_version} at {ctx.broker_url}")
    request: Dict[str, Any] = {
        "installId": ctx.install_id,
        "app": {"name": ctx.app_name, "version": ctx.app_version},
        "platform": ctx.platform,
        "client": ctx.client,
    }
    if ctx.metadata:
        request["metadata"] = ctx.metadata
    issued = protocol.mint(http_, request)
    ctx.log(f"minted token {issued['tokenId']} (expires {issued['expiresAt']})")
    return _store(ctx, _from_issued(ctx, issued))


def _with_settings(record: Record, reply: Any) -> None:
    settings = protocol.settings_of(reply)
    if settings is None:
        record.pop("settings", None)
    else:
        record["settings"] = settings


def _from_issued(ctx: FlowContext, issued: Dict[str, Any]) -> Record:
    record: Record = {
        "format": TOKEN_FORMAT,
        "brokerUrl": ctx.broker_url,
        "app": ctx.app_name,
        "installId": ctx.install_id,
        "tokenId": issued["tokenId"],
        "writeToken": issued["writeToken"],
        "clientSecret": issued["clientSecret"],
        "expiresAt": issued["expiresAt"],
        "refreshAfter": issued["refreshAfter"],
        "heartbeatIntervalSeconds": max(1, issued["heartbeatIntervalSeconds"]),
        "ingestBaseUrl": issued["ingest"]["baseUrl"].rstrip("/"),
        # A mint or refresh is as good as a heartbeat: the broker just vouched for the token.
        "lastHeartbeatAt": format_time(ctx.now()),
        "status": "active",
    }
    _with_settings(record, issued)
    return record


def _store(ctx: FlowContext, record: Record) -> FlowResult:
    """Writes the record; a cache that cannot be written still leaves the token usable for this run."""
    try:
        write_private_json(ctx.paths.token_file, record)
    except (OSError, CacheRefusedError) as error:
        ctx.log(f"could not write the token cache ({error_code(error)}); the token serves this run only")
    return FlowResult(record)
