"""An app's per-user preferences, as the Node client keeps them (clients/node/src/preferences.ts): the
install id (random, generated once per user and app), the persistent opt-out and when the notice was
shown. The file on disk is the truth: a valid file is never overwritten with another install id, so
processes starting at once (Node or Python) agree on the first one's."""

from typing import Any, Callable, Dict, NamedTuple, Optional

from ._cache import PREFERENCES_FORMAT, create_private_json_exclusive, read_preferences, read_token_cache
from ._cache import write_private_json
from ._errors import CacheRefusedError
from ._safe_files import cache_dir_problem, error_code


def _new_install_id() -> str:
    import uuid  # loaded on first use: a warm-cache run never needs it

    return str(uuid.uuid4())


class PreferenceFiles(NamedTuple):
    dir: str
    preferences_file: str
    token_file: str
    broker_url: str
    app_name: str
    persist: bool
    """False where there is no config directory: preferences then live in memory for the run."""
    log: Callable[[str], None]


class PreferenceStore:
    def __init__(self, files: PreferenceFiles) -> None:
        self._files = files
        self._current: Optional[Dict[str, Any]] = None
        self._loaded = False
        self._refused_because: Optional[str] = None
        self._dir_checked = False

    def peek(self) -> Optional[Dict[str, Any]]:
        """The preferences if they exist, without creating anything."""
        if not self._loaded:
            self._loaded = True
            self.reload()
        return self._current

    def refusal(self) -> Optional[str]:
        """Why the cache must not be used this run, if so."""
        self.peek()
        return self._refused_because

    def reload(self) -> Optional[str]:
        """Reads the file again and adopts it if valid; the install id now in force, if any (the token flow
        calls it under the lock, so no process mints for an install id another one replaced)."""
        files = self._files
        if not files.persist or self._refused_because:
            return (self._current or {}).get("installId")
        if not self._dir_checked:
            self._dir_checked = True
            self._refused_because = cache_dir_problem(files.dir, False)
            if self._refused_because:
                return None
        read = read_preferences(files.preferences_file, files.app_name)
        if read.kind == "refused":
            self._refused_because = read.problem
        elif read.kind == "invalid" and read.problem:
            files.log(read.problem)
        if read.value is not None:
            self._current = read.value
        return (self._current or {}).get("installId")

    def get(self) -> Dict[str, Any]:
        """The preferences, created with a new install id if there are none yet."""
        existing = self.peek()
        if existing is not None:
            return existing
        created = {
            "format": PREFERENCES_FORMAT,
            "app": self._files.app_name,
            "installId": self._adoptable_install_id() or _new_install_id(),
            "disabled": False,
        }
        self._current = created
        if not self._files.persist or self._refused_because:
            return created
        try:
            read = read_preferences(self._files.preferences_file, self._files.app_name)
            if read.kind == "missing":
                # Exclusive create: when several processes start at once, the first one's install id wins.
                if not create_private_json_exclusive(self._files.preferences_file, created):
                    self.reload()
            elif read.kind == "invalid":
                write_private_json(self._files.preferences_file, created)
                self.reload()
            else:
                self.reload()
        except (OSError, CacheRefusedError) as error:
            self._files.log(
                f"could not write the preferences file ({error_code(error)}); the install id serves this run only"
            )
        return self._current

    def update(self, **change: Any) -> None:
        """Changes and persists ``disabled`` or ``noticeShownAt`` on top of what the file holds now."""
        self.get()
        self.reload()  # another process may have changed the file since this one read it
        self._current = {**self.get(), **change}
        self._write("the change holds for this run only")

    def replace_install_id(self) -> None:
        """A new install id (``reset()``), keeping the opt-out and the notice."""
        self.get()
        self.reload()
        self._current = {**self.get(), "installId": _new_install_id()}
        self._write("the new install id serves this run only")

    def _write(self, otherwise: str) -> None:
        if not self._files.persist:
            return
        if self._refused_because:
            self._files.log(f"{self._refused_because}; {otherwise}")
            return
        try:
            write_private_json(self._files.preferences_file, self._current or {})
        except (OSError, CacheRefusedError) as error:
            self._files.log(f"could not write the preferences file ({error_code(error)}); {otherwise}")

    def _adoptable_install_id(self) -> Optional[str]:
        """A token cache left by an earlier run (its preferences file lost) keeps its install id."""
        if not self._files.persist or self._refused_because:
            return None
        value = read_token_cache(self._files.token_file, self._files.broker_url, self._files.app_name).value
        return value.get("installId") if value else None
