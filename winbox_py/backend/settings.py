"""Per-router remembered layout: open windows, their geometry, column choices.

Plain JSON in ``config_dir()/layout.json`` (no Qt, no secrets), keyed by a
router key such as ``admin@192.0.2.1`` (or ``demo`` for the built-in demo).
Writes are atomic; a damaged file is set aside and an empty layout used, so a
bad file never stops the program from starting.

Layout of one router::

    {"main": [x, y, w, h], "open": ["/ip/address", ...],
     "windows": {"/ip/address": {"geometry": [x, y, w, h],
                                  "columns": [".flags", "address"],
                                  "sort": [2, "asc"], "widths": {"address": 140}}}}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .paths import config_dir, write_private_file

FILE = "layout.json"
MAX_ROUTERS = 200


class Settings:
    """The layout file, loaded once and saved on :meth:`save`.

    Attributes:
        path: the JSON file.
        data: router key -> that router's layout dict.
    """

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path is not None else config_dir() / FILE
        self.data: dict[str, dict[str, Any]] = self._load()

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError:
            return {}
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, dict)}
        except ValueError:
            try:
                os.replace(self.path, self.path.with_name(self.path.name + ".bad"))
            except OSError:
                pass
            return {}

    def router(self, key: str) -> dict[str, Any]:
        """The layout of one router (created empty when new)."""
        layout = self.data.get(key)
        if layout is None:
            layout = self.data[key] = {}
        if len(self.data) > MAX_ROUTERS:  # forget the oldest
            for old in list(self.data)[: len(self.data) - MAX_ROUTERS]:
                if old != key:
                    del self.data[old]
        return layout

    def window(self, key: str, path: str) -> dict[str, Any]:
        """The remembered state of one menu's window on one router."""
        windows = self.router(key).setdefault("windows", {})
        w = windows.get(path)
        if not isinstance(w, dict):
            w = windows[path] = {}
        return w

    def columns(self, key: str, path: str) -> list[str] | None:
        cols = self.window(key, path).get("columns")
        if isinstance(cols, list) and all(isinstance(c, str) for c in cols):
            return cols
        return None

    def set_columns(self, key: str, path: str, columns: list[str]) -> None:
        self.window(key, path)["columns"] = list(columns)

    def open_windows(self, key: str) -> list[str]:
        paths = self.router(key).get("open", [])
        return [p for p in paths if isinstance(p, str)] if isinstance(paths, list) else []

    def set_open_windows(self, key: str, paths: list[str]) -> None:
        self.router(key)["open"] = list(paths)

    def save(self) -> None:
        write_private_file(self.path, json.dumps(self.data, indent=1, sort_keys=True))
