"""``BrokerClient.reset()``: a logout that really logs out (docs/admin-api.md, "Self-revoke"). The token's
chain is revoked at the broker before the cache is deleted, under the same lock and budget as any other
network step, so a concurrent run cannot refresh the token meanwhile."""

from typing import TYPE_CHECKING

from . import _protocol as protocol
from ._cache import read_token_cache
from ._deadline import Deadline
from ._errors import BrokerClientError
from ._lock import token_lock
from ._safe_files import cache_dir_problem, remove_cache_file

if TYPE_CHECKING:
    from .client import BrokerClient


def reset_installation(client: "BrokerClient") -> bool:
    c = client
    refused = c._prefs.refusal() or (c._has_cache_dir and cache_dir_problem(c._paths.dir, False))
    if not c._has_cache_dir or refused:
        c._log(f"reset: nothing to do ({refused or 'there is no per-user config directory'})")
        return False
    read = read_token_cache(c._paths.token_file, c._broker_url or "", c._app_name)
    if read.kind == "refused":
        c._log(f"reset: {read.problem}")
        return False
    record = read.value
    c._record = record  # its secrets are masked in every line below
    if c.debug:
        what = f"would revoke token {record['tokenId']} at {c._broker_url}, " if record else ""
        c._log(f"reset: {what}would delete {c._paths.token_file} and start a new install id (dry run)")
        return False
    confirmed = record is None
    if record is not None and c._settings.opt_out:
        c._log(f"reset: not contacting the broker ({c._settings.opt_out}); token {record['tokenId']} expires by itself")
    elif record is not None and c._broker_url:
        deadline = Deadline(c._budget)
        http_ = protocol.BrokerHttp(c._broker_url, deadline, c._log)
        try:
            with token_lock(c._paths.token_file, deadline):
                outcome = protocol.revoke(http_, record["tokenId"], record["clientSecret"])
                c._log(_outcome_line(record["tokenId"], outcome))
                confirmed = outcome in ("revoked", "unauthorized")
                remove_cache_file(c._paths.token_file)
        except (BrokerClientError, OSError) as error:
            c._log(f"reset: could not revoke token {record['tokenId']} ({error}); it expires by itself")
    remove_cache_file(c._paths.token_file)
    c._prefs.replace_install_id()
    c._record = None
    c._record_loaded = True
    c._off_reason = "reset() was called in this run"
    return confirmed


def _outcome_line(token_id: str, outcome: str) -> str:
    if outcome == "revoked":
        return f"reset: the broker revoked token {token_id}"
    if outcome == "unauthorized":
        return f"reset: the broker no longer knows token {token_id} (already revoked or replaced)"
    return f"reset: this broker has no self-revoke route (404); token {token_id} expires by itself"
