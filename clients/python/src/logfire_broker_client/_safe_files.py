"""The file operations under the client's cache, with the Node client's rules (clients/node/src/
safeFiles.ts). Whatever sits at a cache path, the client never follows a symlink, never blocks on a FIFO
or a device, never reads a huge file and never writes through anything:

- a read opens with O_NOFOLLOW | O_NONBLOCK and judges what it opened (fstat on the fd); Windows has no
  O_NOFOLLOW, so there an lstat comes first (a narrow check-then-use window);
- a write goes to a fresh temp file (O_CREAT | O_EXCL, 0600, fsynced) renamed into place: a rename
  replaces the name itself, never what a symlink there points to;
- the directory must belong to the user and must not be writable by group or others (POSIX only).
"""

import errno
import os
import stat as stat_mod
import sys
from typing import NamedTuple, Optional

from ._errors import CacheRefusedError

MAX_CACHE_FILE_BYTES = 64 * 1024
"""The token cache is under 1 KB, the preferences a few hundred bytes: anything this big is not ours."""
FILE_MODE = 0o600
DIR_MODE = 0o700
_WINDOWS = sys.platform == "win32"
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)


class FileRead(NamedTuple):
    """``kind`` is ``text`` (with ``text``), ``missing``, ``refused`` (with ``reason``) or ``unreadable``."""

    kind: str
    text: str = ""
    reason: str = ""


def error_code(error: BaseException) -> str:
    """``ENOENT``, ``EACCES``...: what a debug line says about an OS error."""
    number = getattr(error, "errno", None)
    if isinstance(number, int) and number in errno.errorcode:
        return errno.errorcode[number]
    return str(error) or type(error).__name__


def describe_entry(st: os.stat_result) -> str:
    """What an entry is, in words: ``a symbolic link``, ``a FIFO``, ``a file of 70000 bytes``..."""
    mode = st.st_mode
    if stat_mod.S_ISLNK(mode):
        return "a symbolic link"
    if stat_mod.S_ISDIR(mode):
        return "a directory"
    if stat_mod.S_ISFIFO(mode):
        return "a FIFO"
    if stat_mod.S_ISSOCK(mode):
        return "a socket"
    if stat_mod.S_ISREG(mode):
        return f"a file of {st.st_size} bytes"
    return "a device"


def refused_reason(file: str, entry: str, expected: str = "a small regular file") -> str:
    """The debug line for an entry the client refuses to use."""
    return f"{file} is {entry}, not {expected}: the client leaves it alone (remove it to turn telemetry back on)"


def entry_at(path: str) -> Optional[os.stat_result]:
    """What is at ``path`` itself (a symlink is not followed), or None when nothing is."""
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _refusal_of(file: str, st: os.stat_result) -> Optional[str]:
    if stat_mod.S_ISREG(st.st_mode) and st.st_size <= MAX_CACHE_FILE_BYTES:
        return None
    return refused_reason(file, describe_entry(st))


def read_cache_file(file: str) -> FileRead:
    """Reads a cache file if it is a small regular file, without following a symlink or waiting on a
    FIFO. Never raises."""
    try:
        if not _O_NOFOLLOW:
            refused = _refusal_of(file, os.lstat(file))
            if refused:
                return FileRead("refused", reason=refused)
        fd = os.open(file, os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_BINARY)
    except OSError as error:
        if error.errno == errno.ENOENT:
            return FileRead("missing")
        # open refuses a symlink under O_NOFOLLOW (ELOOP; EMLINK on FreeBSD), a socket (ENXIO), a
        # directory (EISDIR): say what is there. A regular file it cannot read (EACCES) is replaceable.
        try:
            entry = entry_at(file)
            if entry is not None and not stat_mod.S_ISREG(entry.st_mode):
                return FileRead("refused", reason=refused_reason(file, describe_entry(entry)))
        except OSError:
            pass
        return FileRead("unreadable", reason=error_code(error))
    try:
        st = os.fstat(fd)
        refused = _refusal_of(file, st)
        if refused:
            return FileRead("refused", reason=refused)
        # One byte more than it claims: a file that grew past the bound is refused, not read in full.
        wanted = min(st.st_size, MAX_CACHE_FILE_BYTES) + 1
        chunks = []
        length = 0
        while length < wanted:
            chunk = os.read(fd, wanted - length)
            if not chunk:
                break
            chunks.append(chunk)
            length += len(chunk)
        if length > MAX_CACHE_FILE_BYTES:
            return FileRead("refused", reason=refused_reason(file, f"a file of over {MAX_CACHE_FILE_BYTES} bytes"))
        return FileRead("text", text=b"".join(chunks).decode("utf-8", "replace"))
    except OSError as error:
        return FileRead("unreadable", reason=error_code(error))
    finally:
        os.close(fd)


def cache_dir_problem(directory: str, prepare: bool) -> Optional[str]:
    """Why the cache directory must not be used, or None when it may (or is not there yet). With
    ``prepare``, a missing directory is created 0700 and a usable one tightened to 0700. A symlinked
    directory (dotfiles) is judged by what it points to. Windows has no owner or mode bits here."""
    try:
        st = os.stat(directory)
    except OSError as error:
        if error.errno != errno.ENOENT:
            return f"the cache directory {directory} cannot be read ({error_code(error)})"
        if not prepare:
            return None
        os.makedirs(directory, mode=DIR_MODE, exist_ok=True)
        st = os.stat(directory)
    if not stat_mod.S_ISDIR(st.st_mode):
        return f"the cache directory {directory} is {describe_entry(st)}, not a directory"
    getuid = getattr(os, "getuid", None)
    if _WINDOWS or getuid is None:
        return None
    uid = getuid()
    if st.st_uid != uid:
        return (
            f"the cache directory {directory} belongs to uid {st.st_uid}, not to you (uid {uid}): "
            "the client does not use it"
        )
    if st.st_mode & 0o022:
        mode = format(st.st_mode & 0o777, "04o")
        return (
            f"the cache directory {directory} is writable by group or others (mode {mode}): the client does "
            "not use it (chmod 700 it once you trust what is in it)"
        )
    if prepare and (st.st_mode & 0o777) != DIR_MODE:
        os.chmod(directory, DIR_MODE)
    return None


def _prepared_dir(file: str) -> None:
    problem = cache_dir_problem(os.path.dirname(file), True)
    if problem:
        raise CacheRefusedError(problem)


def _write_temp_file(file: str, text: str) -> str:
    """A new file next to ``file`` holding ``text``, 0600, fsynced; O_EXCL, so nothing planted is reused."""
    temp = f"{file}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_BINARY
    fd = os.open(temp, flags, FILE_MODE)
    try:
        if not _WINDOWS:
            os.fchmod(fd, FILE_MODE)  # exactly 0600, whatever the umask
        data = text.encode("utf-8")
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _remove(temp)
        raise
    os.close(fd)
    return temp


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def write_cache_file(file: str, text: str) -> None:
    """Replaces ``file`` atomically (readers see the old or the new content, never a mix), mode 0600.
    Raises CacheRefusedError when the directory is not the user's or something other than a regular file
    is at ``file``."""
    _prepared_dir(file)
    existing = entry_at(file)
    if existing is not None and not stat_mod.S_ISREG(existing.st_mode):
        raise CacheRefusedError(refused_reason(file, describe_entry(existing)))
    temp = _write_temp_file(file, text)
    try:
        os.replace(temp, file)
    except BaseException:
        _remove(temp)
        raise


def create_cache_file(file: str, text: str) -> bool:
    """Creates ``file`` only if nothing at all is at that path, atomically and complete (a temp file
    hard-linked into place); False if something is. Processes starting at once agree on the first one's."""
    _prepared_dir(file)
    temp = _write_temp_file(file, text)
    try:
        os.link(temp, file)
        return True
    except FileExistsError:
        return False
    except OSError as error:
        # A file system without hard links (or Windows without the privilege): an atomic rename instead;
        # the token flow re-reads the install id under its lock, so processes still agree before a mint.
        no_hard_links = error.errno in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS)
        if no_hard_links and entry_at(file) is None:
            os.replace(temp, file)
            return True
        if no_hard_links:
            return False
        raise
    finally:
        _remove(temp)


def remove_cache_file(file: str) -> None:
    """Removes a cache file (``reset()``): unlinks the name, never what a symlink there points to."""
    entry = entry_at(file)
    if entry is None:
        return
    if not stat_mod.S_ISREG(entry.st_mode):
        raise CacheRefusedError(refused_reason(file, describe_entry(entry)))
    os.unlink(file)
