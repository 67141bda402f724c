"""The configuration store: items of every menu, revisions and history.

Items are dicts with an ``.id`` (``*1``, ``*A``: RouterOS ids, hexadecimal,
one counter for the whole device so a reference never needs its menu) and the
properties a person set, as canonical values.  Defaults are not stored.

Every change is a :class:`Change` (menu, id, item before, item after, position
before and after); a commit applies a list of them as one revision and keeps
it in the history, whose inverse is the same list reversed with before and
after swapped.  That is what undo, redo and safe-mode rollback replay.

The state file is written atomically (write to a temporary file, fsync,
rename, fsync the directory), so a process killed at any instant leaves the
last committed revision loadable.
"""

import contextlib
import copy
import json
import os
import re
import tempfile
import time
from typing import Any, Dict, Iterator, List, Optional

from .errors import RouterError

FORMAT = 1
HISTORY_KEEP = 1000
STATE_FILE = "config.json"
TEMP_PREFIX = ".tmp-"


class Change:
    """One item changed: added (before is None), removed (after is None),
    modified, or moved (positions differ)."""

    __slots__ = ("path", "id", "before", "after", "pos_before", "pos_after")

    def __init__(self, path: str, item_id: str, before: Optional[dict], after: Optional[dict],
                 pos_before: Optional[int] = None, pos_after: Optional[int] = None):
        self.path = path
        self.id = item_id
        self.before = before
        self.after = after
        self.pos_before = pos_before
        self.pos_after = pos_after

    @property
    def op(self) -> str:
        if self.before is None:
            return "add"
        if self.after is None:
            return "remove"
        if self.before == self.after and self.pos_before != self.pos_after:
            return "move"
        return "set"

    def inverse(self) -> "Change":
        return Change(self.path, self.id, self.after, self.before, self.pos_after, self.pos_before)

    def to_json(self) -> dict:
        return {"path": self.path, "id": self.id, "before": self.before, "after": self.after,
                "pos_before": self.pos_before, "pos_after": self.pos_after}

    @classmethod
    def from_json(cls, d: dict) -> "Change":
        return cls(d["path"], d["id"], d["before"], d["after"], d.get("pos_before"), d.get("pos_after"))


class Store:
    """Items of every menu with revisions, persisted in ``state_dir``.

    Attributes:
        revision: the number of the last committed revision.
        history: committed revisions, newest last (bounded).
    """

    def __init__(self, state_dir: Optional[str] = None):
        self.state_dir = state_dir
        self.revision = 0
        self.next_id = 1
        self.menus: Dict[str, List[dict]] = {}
        self._index: Dict[str, str] = {}          # id -> path
        self.history: List[dict] = []
        self._batch = 0
        self._dirty = False
        self.loaded = False
        if state_dir:
            self._load()

    # -- reading ------------------------------------------------------------
    def items(self, path: str) -> List[dict]:
        return self.menus.get(path, [])

    def get(self, item_id: str) -> Optional[dict]:
        path = self._index.get(item_id)
        if path is None:
            return None
        for it in self.menus[path]:
            if it[".id"] == item_id:
                return it
        return None

    def path_of(self, item_id: str) -> Optional[str]:
        return self._index.get(item_id)

    def position(self, path: str, item_id: str) -> int:
        for i, it in enumerate(self.menus.get(path, [])):
            if it[".id"] == item_id:
                return i
        raise KeyError(item_id)

    def new_id(self) -> str:
        value = "*%X" % self.next_id
        self.next_id += 1
        return value

    # -- writing ------------------------------------------------------------
    def apply(self, changes: List[Change], note: str = "", session: str = "", record: bool = True,
              meta: Optional[Dict[str, Any]] = None) -> int:
        """Apply ``changes`` as one revision; returns its number.  ``meta``
        adds keys to its history entry (who, what kind of step: see history.py)."""
        for ch in changes:
            self._apply_one(ch)
        self.revision += 1
        if record:
            entry = {"rev": self.revision, "time": time.time(), "note": note,
                     "session": session, "changes": [c.to_json() for c in changes]}
            entry.update(meta or {})
            self.history.append(entry)
            if len(self.history) > HISTORY_KEEP:
                del self.history[: len(self.history) - HISTORY_KEEP]
        self._dirty = True
        if not self._batch:
            self.flush()
        return self.revision

    def _apply_one(self, ch: Change) -> None:
        items = self.menus.setdefault(ch.path, [])
        pos = None
        if ch.before is not None:
            pos = next((i for i, it in enumerate(items) if it[".id"] == ch.id), None)
            if pos is None:
                raise KeyError("%s %s is not in the store" % (ch.path, ch.id))
            del items[pos]
            self._index.pop(ch.id, None)
        if ch.after is not None:
            item = copy.deepcopy(ch.after)
            item[".id"] = ch.id
            # a change without a new position keeps the item where it was
            # (a set); an item without a place (an add) goes last
            if ch.pos_after is not None:
                pos = ch.pos_after
            elif pos is None:
                pos = len(items)
            items.insert(min(pos, len(items)), item)
            self._index[ch.id] = ch.path
            num = int(ch.id[1:], 16)
            if num >= self.next_id:
                self.next_id = num + 1

    @property
    def batching(self) -> bool:
        """Whether a :meth:`batch` is open (writing the state file is deferred)."""
        return self._batch > 0

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Defer writing the state file until the outermost batch ends."""
        self._batch += 1
        try:
            yield
        finally:
            self._batch -= 1
            if not self._batch and self._dirty:
                self.flush()

    # -- persistence ----------------------------------------------------------
    def snapshot(self) -> dict:
        return {"format": FORMAT, "revision": self.revision, "next_id": self.next_id,
                "menus": self.menus, "history": self.history}

    def flush(self) -> None:
        self._dirty = False
        if not self.state_dir:
            return
        data = json.dumps(self.snapshot(), separators=(",", ":"), sort_keys=True).encode()
        write_atomic(os.path.join(self.state_dir, STATE_FILE), data)

    def _load(self) -> None:
        private_makedirs(self.state_dir)
        remove_stale_temporaries(self.state_dir)
        path = os.path.join(self.state_dir, STATE_FILE)
        try:
            with open(path, "rb") as fh:
                data = json.loads(fh.read().decode("utf-8"))
        except FileNotFoundError:
            return
        except ValueError as exc:      # not JSON, not UTF-8: refuse, never overwrite
            raise RouterError("%s is not a readable configuration (%s); it is left as it is" % (path, exc),
                              "general") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise RouterError("%s: unknown state format %r; it is left as it is" % (
                path, data.get("format") if isinstance(data, dict) else type(data).__name__), "general")
        self.revision = data["revision"]
        self.next_id = data["next_id"]
        self.menus = data["menus"]
        self.history = data.get("history", [])
        self._index = {it[".id"]: p for p, items in self.menus.items() for it in items}
        self.loaded = True


def private_makedirs(path: str) -> None:
    """Make ``path`` and any missing parent only their owner may enter (a
    guest router's ``STATE/metarouter/*1`` makes ``metarouter`` too)."""
    missing = []
    while path and not os.path.isdir(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(d, 0o700)


def write_atomic(path: str, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old or the
    new file, never a torn one."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix="%s%d-" % (TEMP_PREFIX, os.getpid()), dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def remove_stale_temporaries(directory: str) -> None:
    """Delete the half-written files of writers that died before renaming
    them (their pid is in the name), so crashes do not fill the disk."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        m = re.match(re.escape(TEMP_PREFIX) + r"(\d+)-", name)
        if not m:
            continue
        pid = int(m.group(1))
        try:
            os.kill(pid, 0)
            continue                    # its writer is still running
        except ProcessLookupError:
            pass
        except OSError:                 # alive, but another user's
            continue
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(directory, name))


def load_json(path: str, default: Any) -> Any:
    try:
        with open(path, "rb") as fh:
            return json.loads(fh.read().decode())
    except (FileNotFoundError, ValueError):
        return default
