"""The inter-process lock on the token cache, in proper-lockfile's protocol (what the Node client uses,
clients/node/src/lock.ts), so Python and Node processes of one app exclude each other:

- the lock is a directory ``<token file>.lock``, taken with an atomic ``mkdir``;
- its holder touches the directory's mtime every ``stale / 2`` (1.5 s) while it holds it;
- a lock whose mtime is older than ``stale`` (3 s: the Node client's ``LOCK_STALE_MS``) belongs to a holder
  that crashed: it is removed with ``rmdir`` and taken again once; a lock that is still (or again) there
  then is held by someone else;
- the Node side judges staleness with lstat, so neither side ever follows a symlink at the lock path, and
  anything but a directory there was planted: refused at once.
"""

import errno
import os
import stat as stat_mod
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from ._deadline import Deadline
from ._errors import BudgetSpentError, CacheRefusedError
from ._safe_files import describe_entry, entry_at, refused_reason

LOCK_STALE_SECONDS = 3.0
"""The Node client's LOCK_STALE_MS: a holder keeps the lock at most one time budget."""
REFRESH_SECONDS = LOCK_STALE_SECONDS / 2
RETRY_SECONDS = 0.025


def _touch(lock_path: str) -> None:
    now = time.time()
    try:
        os.utime(lock_path, (now, now), follow_symlinks=False)
    except (NotImplementedError, TypeError):  # a platform without lutimes
        os.utime(lock_path, (now, now))


def _try_acquire(lock_path: str, check_stale: bool = True) -> bool:
    """One attempt, as proper-lockfile's acquireLock: mkdir, else take over a stale lock once."""
    try:
        os.mkdir(lock_path, 0o700)
    except FileExistsError:
        pass
    else:
        _touch(lock_path)
        return True
    if not check_stale:
        return False
    try:
        st = os.lstat(lock_path)
    except FileNotFoundError:
        return _try_acquire(lock_path, check_stale=False)  # released meanwhile
    if not stat_mod.S_ISDIR(st.st_mode):
        raise CacheRefusedError(refused_reason(lock_path, describe_entry(st), "a lock directory"))
    if st.st_mtime >= time.time() - LOCK_STALE_SECONDS:
        return False
    try:
        os.rmdir(lock_path)
    except FileNotFoundError:
        pass
    except OSError as error:
        if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
        return False
    return _try_acquire(lock_path, check_stale=False)


class _Refresher:
    """Keeps the lock's mtime fresh while it is held, so a slow (but live) holder is not taken over."""

    def __init__(self, lock_path: str) -> None:
        self._lock_path = lock_path
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="logfire-broker-lock", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(REFRESH_SECONDS):
            try:
                _touch(self._lock_path)
            except OSError:
                return

    def stop(self) -> None:
        self._stop.set()


@contextmanager
def token_lock(target: str, deadline: Deadline) -> Iterator[None]:
    """Holds the lock on ``target`` (a ``<target>.lock`` directory) for the block, waiting for it within
    the deadline; raises BudgetSpentError when it does not come in time."""
    lock_path = f"{target}.lock"
    planted = entry_at(lock_path)
    if planted is not None and not stat_mod.S_ISDIR(planted.st_mode):
        raise CacheRefusedError(refused_reason(lock_path, describe_entry(planted), "a lock directory"))
    while not _try_acquire(lock_path):
        if deadline.remaining() <= RETRY_SECONDS:
            raise BudgetSpentError("waiting for another process to update the token cache", deadline.budget_seconds)
        deadline.sleep(RETRY_SECONDS, jitter=RETRY_SECONDS)
    refresher = _Refresher(lock_path)
    try:
        yield
    finally:
        refresher.stop()
        try:
            os.rmdir(lock_path)
        except OSError:
            pass
