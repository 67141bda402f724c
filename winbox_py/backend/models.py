"""Qt item models that turn ``follow`` streams into table rows (QtCore only).

:class:`TableModel` holds one menu's rows as tuples of display strings (see
:mod:`winbox_py.backend.tabledata`) with an ``id -> row`` dict, and a visible
order computed in Python: sorting is a list sort with a key, filtering an
index list, never a QSortFilterProxyModel (STYLE.md's measurements: minutes
for a proxy on a million rows, under a second here).

Rows from the agent are queued and applied on a timer tick: the initial
listing in contiguous ``beginInsertRows`` batches, live changes as one ranged
``dataChanged`` per tick for values that keep their place, and inserts,
removes or a layout change otherwise. :class:`Feed` pumps a session's follow
stream into a model without starving the event loop, and stops pulling (so
the agent's flow control holds the rest) while the model has a large backlog.
"""

from __future__ import annotations

import asyncio
import bisect
import gc
import time
from typing import Any, Callable, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal

from .tabledata import FLAGS, ID, Column, Rule, predicate, row_tuple, sort_key

TICK_MS = 100
CATCH_UP_MS = 5              # next tick when a listing is still queued
ROWS_PER_TICK = 8_000        # insert at most this many rows per tick (bounds the stall)
BACKLOG_ROWS = 40_000        # Feed stops pulling while this many rows wait
SLICE_S = 0.008              # Feed lets the event loop breathe at least this often
RESET_FRACTION = 0.25        # more structural changes than this share of rows -> reset

_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
STATE_ROLE = Qt.ItemDataRole.UserRole.value + 1   # "disabled" | "invalid" | "dynamic" | None
COMMENT_ROLE = Qt.ItemDataRole.UserRole.value + 2  # True in the comment column


class TableModel(QAbstractTableModel):
    """The rows of one menu as a flat table.

    Row state (disabled, invalid, dynamic) is answered under STATE_ROLE; the
    view's delegate colours rows by it (no QtGui here).

    Attributes:
        columns: every column the table can show (the view hides some).
        loaded: whether the full listing has arrived.

    Signals:
        ready: the initial listing is complete.
        counts_changed(int, int): visible rows, total rows.
        row_changed(str): an item's values changed (its id); dialogs listen.
        row_removed(str): an item went away (its id).
    """

    ready = Signal()
    counts_changed = Signal(int, int)
    row_changed = Signal(str)
    row_removed = Signal(str)

    def __init__(self, columns: Sequence[Column], parent: QObject | None = None):
        super().__init__(parent)
        self.columns = list(columns)
        self.fields = [c.field for c in self.columns]
        self._field_index = {c.field: c.index for c in self.columns}
        self._id_index = len(self.fields)
        self._flags_index = self._field_index.get(FLAGS)
        self._comment_index = self._field_index.get("comment")
        self._rows: dict[str, tuple] = {}
        self._seq: dict[str, int] = {}
        self._next_seq = 0
        self._view: list[str] = []
        self._pending_rows: list[tuple] = []
        self._pending_changes: dict[str, tuple | None] = {}
        self._rules: list[Rule] = []
        self._find = ""
        self._find_in: tuple[int, ...] = tuple(range(len(self.fields)))
        self._pred: Callable[[tuple], bool] | None = None
        self._sort_column = -1
        self._sort_order = Qt.AscendingOrder
        self._key: Callable[[str], Any] = self._seq.__getitem__
        self.loaded = False
        self._order: list[str] | None = None
        self._placed: dict[str, int] = {}
        self._keys: dict[str, Any] | None = None
        self._keys_column = -1
        self._keys_fn: Callable[[tuple], Any] = lambda r: None
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self.drained = asyncio.Event()

    # -- feeding -------------------------------------------------------------
    def feed(self, event: dict) -> None:
        """Take one follow event (``rows``, ``ready``, ``add``, ``set``, ``remove``)."""
        op = event.get("op")
        if op == "rows":
            fields = self.fields
            self._pending_rows.extend(row_tuple(fields, r) for r in event.get("rows", ()))
        elif op == "ready":
            self._pending_changes.setdefault("\0ready", None)
        elif op in ("add", "set"):
            row = row_tuple(self.fields, event["row"])
            self._queue_change(row[self._id_index], row)
            index = event.get("index")
            if op == "add" and isinstance(index, int):
                self._pending_changes.setdefault("\0order", None)
                self._placed[row[self._id_index]] = index
        elif op == "remove":
            self._queue_change(event["row"][ID], None)
        elif op == "order":
            self._order = list(event.get("ids") or [])
            self._pending_changes.setdefault("\0order", None)
        elif op in ("lost", "reset"):
            self.clear()  # the rows are stale; after a reset a new listing follows
            return
        self._arm()

    def feed_rows(self, rows: Sequence[dict]) -> None:
        """A whole listing at once (from ``print``): replaces everything."""
        self.clear()
        self.feed({"op": "rows", "rows": rows})
        self.feed({"op": "ready"})
        self.flush()

    def _queue_change(self, item_id: str, row: tuple | None) -> None:
        if self._pending_rows and not self.loaded:
            self._pending_rows.append(row if row is not None else (None, item_id))
            return
        self._pending_changes.pop(item_id, None)  # keep arrival order of the latest change
        self._pending_changes[item_id] = row

    def _arm(self) -> None:
        if not self._timer.isActive():
            self._timer.start(TICK_MS)
        self.drained.clear()

    @property
    def backlog(self) -> int:
        return len(self._pending_rows) + len(self._pending_changes)

    def clear(self) -> None:
        """Forget every row (the connection dropped; a new listing follows)."""
        self.beginResetModel()
        self._rows.clear()
        self._seq.clear()
        self._view = []
        self._pending_rows = []
        self._pending_changes = {}
        self._order, self._placed = None, {}
        self._keys = None
        self.loaded = False
        self.endResetModel()
        self._emit_counts()

    # -- applying on the tick ------------------------------------------------
    def _tick(self) -> None:
        self.flush(partial=True)

    def flush(self, partial: bool = False) -> None:
        """Apply what is queued (all of it, or on a timer tick at most
        ROWS_PER_TICK rows of a listing, so each tick's stall stays short)."""
        self._timer.stop()
        while self._pending_rows:
            self._apply_listing()
            if self._pending_rows and partial:  # more of the listing: let the window paint first
                self._timer.start(CATCH_UP_MS)
                self._emit_counts()
                if self.backlog < BACKLOG_ROWS // 2:
                    self.drained.set()
                return
        if self._pending_changes:
            changes, self._pending_changes = self._pending_changes, {}
            ready = changes.pop("\0ready", "absent") != "absent"
            reorder = changes.pop("\0order", "absent") != "absent"
            if changes:
                self._apply_changes(changes)
            if reorder:
                self._apply_order()
            if ready and not self.loaded:
                self.loaded = True
                if self._sort_column >= 0:
                    self._relayout()
                self.ready.emit()
        self._emit_counts()
        self.drained.set()

    def _apply_listing(self) -> None:
        if len(self._pending_rows) > ROWS_PER_TICK:
            rows = self._pending_rows[:ROWS_PER_TICK]
            del self._pending_rows[:ROWS_PER_TICK]
        else:
            rows, self._pending_rows = self._pending_rows, []
        self._keys = None  # recomputed at the next sort
        idx = self._id_index
        new_ids = []
        for r in rows:
            if r[0] is None and len(r) == 2:  # a removal that came during the listing
                self._drop(r[1])
                continue
            item_id = r[idx]
            if item_id in self._rows:
                self._rows[item_id] = r
                continue
            self._rows[item_id] = r
            self._seq[item_id] = self._next_seq
            self._next_seq += 1
            if self._pred is None or self._pred(r):
                new_ids.append(item_id)
        if new_ids:
            first = len(self._view)
            self.beginInsertRows(QModelIndex(), first, first + len(new_ids) - 1)
            self._view.extend(new_ids)
            self.endInsertRows()
        if self._rows and not new_ids:
            self._data_changed_all()

    def _apply_order(self) -> None:
        """Items moved (``order``) or added at a position (``add`` with ``index``):
        renumber the agent's order and lay the view out again."""
        order, placed = self._order, self._placed
        self._order, self._placed = None, {}
        if order is None:
            order = [i for i in self._rows if i not in placed]
            for item_id, index in sorted(placed.items(), key=lambda kv: kv[1]):
                if item_id in self._rows:
                    order.insert(min(index, len(order)), item_id)
        known = [i for i in order if i in self._rows]
        known_set = set(known)
        rest = [i for i in self._rows if i not in known_set]
        new_rows = {}
        self._seq.clear()
        for n, item_id in enumerate(known + rest):
            new_rows[item_id] = self._rows[item_id]
            self._seq[item_id] = n
        self._next_seq = len(new_rows)
        self._rows.clear()
        self._rows.update(new_rows)
        self._relayout(same_members=True)

    def _drop(self, item_id: str) -> None:
        if self._rows.pop(item_id, None) is not None:
            self._seq.pop(item_id, None)
            try:
                pos = self._view.index(item_id)
            except ValueError:
                return
            self.beginRemoveRows(QModelIndex(), pos, pos)
            del self._view[pos]
            self.endRemoveRows()

    def _apply_changes(self, changes: dict[str, tuple | None]) -> None:
        visible_before = set()
        in_place: list[str] = []
        structural: dict[str, tuple | None] = {}
        pred = self._pred
        sort_i = self._sort_index()
        for item_id, row in changes.items():
            old = self._rows.get(item_id)
            if row is None:
                if old is not None:
                    structural[item_id] = None
                    self.row_removed.emit(item_id)
                continue
            if old is None:
                structural[item_id] = row
                continue
            was = pred is None or pred(old)
            now = pred is None or pred(row)
            moves = sort_i is not None and old[sort_i] != row[sort_i]
            if was == now and not moves:
                self._rows[item_id] = row
                if now:
                    in_place.append(item_id)
                visible_before.add(item_id)
            else:
                structural[item_id] = row
        if structural:
            self._apply_structural(structural)
        if in_place:
            pos = self._positions(in_place)
            if pos:
                self.dataChanged.emit(self.index(min(pos), 0), self.index(max(pos), len(self.columns) - 1))
        for item_id, row in changes.items():
            if row is not None:
                self.row_changed.emit(item_id)

    def _positions(self, ids: list[str]) -> list[int]:
        if len(ids) <= 8:
            out = []
            key = self._key
            for item_id in ids:
                p = self._find_pos(item_id, key)
                if p is not None:
                    out.append(p)
            return out
        wanted = set(ids)
        return [i for i, x in enumerate(self._view) if x in wanted]

    def _find_pos(self, item_id: str, key) -> int | None:
        try:
            k = key(item_id)
            lo = bisect.bisect_left(self._view, k, key=key)
            for p in range(lo, len(self._view)):
                if self._view[p] == item_id:
                    return p
                if key(self._view[p]) != k:
                    break
        except (KeyError, TypeError):
            pass
        try:
            return self._view.index(item_id)
        except ValueError:
            return None

    def _apply_structural(self, changes: dict[str, tuple | None]) -> None:
        n = max(len(self._rows), 1)
        if len(changes) > 64 and len(changes) > RESET_FRACTION * n:
            self.beginResetModel()
            for item_id, row in changes.items():
                self._store(item_id, row)
            self._view = self._compute_view()
            self.endResetModel()
            return
        # removals first (rows leaving the view), from the bottom up
        key = self._key
        leaving = []
        for item_id in changes:
            if item_id in self._rows:
                p = self._find_pos(item_id, key)
                if p is not None:
                    leaving.append(p)
        for p in sorted(leaving, reverse=True):
            self.beginRemoveRows(QModelIndex(), p, p)
            del self._view[p]
            self.endRemoveRows()
        for item_id, row in changes.items():
            self._store(item_id, row)
        key = self._key
        pred = self._pred
        for item_id, row in changes.items():
            if row is None or (pred is not None and not pred(row)):
                continue
            p = bisect.bisect_right(self._view, key(item_id), key=key)
            self.beginInsertRows(QModelIndex(), p, p)
            self._view.insert(p, item_id)
            self.endInsertRows()

    def _store(self, item_id: str, row: tuple | None) -> None:
        if self._keys is not None:
            if row is None:
                self._keys.pop(item_id, None)
            else:
                self._keys[item_id] = self._keys_fn(row)
        if row is None:
            self._rows.pop(item_id, None)
            self._seq.pop(item_id, None)
            return
        if item_id not in self._seq:
            self._seq[item_id] = self._next_seq
            self._next_seq += 1
        self._rows[item_id] = row

    def _data_changed_all(self) -> None:
        if self._view:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._view) - 1, len(self.columns) - 1))

    def _emit_counts(self) -> None:
        self.counts_changed.emit(len(self._view), len(self._rows))

    # -- sort and filter -----------------------------------------------------------
    def _sort_index(self) -> int | None:
        return self.columns[self._sort_column].index if self._sort_column >= 0 else None

    def _make_key(self) -> Callable[[str], Any]:
        seq = self._seq
        if self._sort_column < 0:
            return seq.__getitem__
        col_key = sort_key(self.columns[self._sort_column])
        rows = self._rows
        if self._sort_order == Qt.DescendingOrder:
            # descending by value, ties in agent order: negate via a wrapper
            return lambda i: (_Reverse(col_key(rows[i])), seq[i])
        return lambda i: (col_key(rows[i]), seq[i])

    def _compute_view(self) -> list[str]:
        pred = self._pred
        rows = self._rows
        if pred is None:
            ids = list(rows)
        else:
            ids = [i for i, r in rows.items() if pred(r)]
        if self._sort_column < 0:
            return ids  # rows (a dict) iterate in arrival order
        # rows (a dict) iterate in arrival order, so ties keep the agent's order (sort is stable)
        keys = self._sort_keys()
        ids.sort(key=keys.__getitem__, reverse=self._sort_order == Qt.DescendingOrder)
        return ids

    def _sort_keys(self) -> dict[str, Any]:
        """id -> sort key of the sort column, computed once per column and kept
        current as rows change (so filtering a sorted table sorts cheaply)."""
        if self._keys_column != self._sort_column or self._keys is None:
            col_key = sort_key(self.columns[self._sort_column])
            self._keys = {i: col_key(r) for i, r in self._rows.items()}
            self._keys_column = self._sort_column
            self._keys_fn = col_key
        return self._keys

    def _relayout(self, same_members: bool = False) -> None:
        """Recompute order (and membership) keeping selections where rows stay."""
        old_view = self._view
        new_view = self._compute_view()
        self._key = self._make_key()
        if len(new_view) != len(old_view) or (not same_members and set(new_view) != set(old_view)):
            self.beginResetModel()
            self._view = new_view
            self.endResetModel()
            self._emit_counts()
            return
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        self._view = new_view
        if persistent:
            wanted = {old_view[p.row()] for p in persistent if p.isValid() and p.row() < len(old_view)}
            pos = {}
            if len(wanted) <= 64:
                for item_id in wanted:
                    p = self._find_pos(item_id, self._key)
                    if p is not None:
                        pos[item_id] = p
            else:
                pos = {item_id: i for i, item_id in enumerate(new_view) if item_id in wanted}
            new = [self.index(pos[old_view[p.row()]], p.column())
                   if p.isValid() and p.row() < len(old_view) and old_view[p.row()] in pos else QModelIndex()
                   for p in persistent]
            self.changePersistentIndexList(persistent, new)
        self.layoutChanged.emit()

    def sort(self, column: int, order: Qt.SortOrder = Qt.AscendingOrder) -> None:
        """Sort by a column in Python (column -1: the agent's order)."""
        self.flush()
        column = column if 0 <= column < len(self.columns) else -1
        if column != self._sort_column:
            self._keys = None  # kept current only while its column is the sort column
        self._sort_column = column
        self._sort_order = order
        self._key = self._make_key()
        self._relayout(same_members=True)

    def set_filter(self, rules: Sequence[Rule] = (), find: str | None = None) -> None:
        """Show only rows passing every rule and containing ``find`` in a shown column."""
        self.flush()
        self._rules = list(rules)
        if find is not None:
            self._find = find
        self._pred = predicate(self._rules, self._find, self._find_in)
        self._relayout()
        self._emit_counts()

    def set_find_columns(self, indexes: Sequence[int]) -> None:
        """The columns quick find looks in (the shown ones)."""
        self._find_in = tuple(indexes)
        if self._find:
            self.set_filter(self._rules, self._find)

    @property
    def rules(self) -> list[Rule]:
        return list(self._rules)

    @property
    def sort_column(self) -> int:
        return self._sort_column

    # -- reading ---------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._view)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index, role: int = _DISPLAY):
        if role == _DISPLAY:
            return self._rows[self._view[index.row()]][index.column()]
        if role == STATE_ROLE:
            if self._flags_index is None:
                return None
            flags = self._rows[self._view[index.row()]][self._flags_index]
            if "X" in flags:
                return "disabled"
            if "I" in flags:
                return "invalid"
            if "D" in flags:
                return "dynamic"
            return None
        if role == _TOOLTIP:
            if self._comment_index is None:
                return None
            text = self._rows[self._view[index.row()]][self._comment_index]
            return text or None
        if role == COMMENT_ROLE:
            return index.column() == self._comment_index
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole):
        if orientation == Qt.Horizontal and 0 <= section < len(self.columns):
            if role == Qt.DisplayRole:
                return self.columns[section].title
            if role == Qt.ToolTipRole:
                return self.columns[section].field
        return None

    def flags(self, index):
        if not index.isValid():
            return Qt.NoItemFlags
        return Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemNeverHasChildren

    # -- helpers for views ---------------------------------------------------------
    def item_id(self, row: int) -> str:
        return self._view[row]

    def row_of(self, item_id: str) -> int:
        """Visible row of an item, or -1."""
        p = self._find_pos(item_id, self._key) if item_id in self._rows else None
        return -1 if p is None else p

    def value(self, item_id: str, field: str) -> str:
        row = self._rows.get(item_id)
        if row is None:
            return ""
        i = self._field_index.get(field)
        return "" if i is None else row[i]

    def row_dict(self, item_id: str) -> dict[str, str]:
        row = self._rows.get(item_id)
        if row is None:
            return {}
        out = dict(zip(self.fields, row))
        out[ID] = item_id
        return out

    def has(self, item_id: str) -> bool:
        return item_id in self._rows

    @property
    def total(self) -> int:
        return len(self._rows)

    def column_of(self, field: str) -> int:
        return self._field_index.get(field, -1)

    def ids(self) -> list[str]:
        return list(self._view)


def _first(pair: tuple) -> Any:
    return pair[0]


class _Reverse:
    """Inverts comparison of a key (descending sort while ties keep order)."""

    __slots__ = ("k",)

    def __init__(self, k: Any):
        self.k = k

    def __lt__(self, other: "_Reverse") -> bool:
        return other.k < self.k

    def __gt__(self, other: "_Reverse") -> bool:
        return other.k > self.k

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reverse) and other.k == self.k


class Feed:
    """Pumps a follow stream into a TableModel until cancelled.

    Attributes:
        model: the model fed.
        stream: the session's Stream (async iterator of events).
        error: the RpcError (or other exception) that ended the stream, if any.
        done: set when the stream ended.
    """

    def __init__(self, model: TableModel, stream: Any, on_end: Callable[["Feed"], None] | None = None):
        self.model = model
        self.stream = stream
        self.error: BaseException | None = None
        self.on_end = on_end
        self.task: asyncio.Task | None = None

    def start(self) -> "Feed":
        self.task = asyncio.ensure_future(self._run())
        return self

    async def _run(self) -> None:
        model = self.model
        loading = True
        yielded = time.perf_counter()
        gc_was = gc.isenabled()
        gc.disable()
        try:
            async for event in self.stream:
                model.feed(event)
                if loading and event.get("op") == "ready":
                    loading = False
                    if gc_was:
                        # the rows live as long as the window: keep the collector
                        # from walking them again and again (STYLE.md)
                        gc.freeze()
                        gc.enable()
                if model.backlog >= BACKLOG_ROWS:
                    await model.drained.wait()
                    yielded = time.perf_counter()
                elif time.perf_counter() - yielded > SLICE_S:
                    # a real (timed) wait, not sleep(0): under qasync a chain of
                    # sleep(0) can keep Qt's timers and repaints waiting
                    await asyncio.sleep(0.001)
                    yielded = time.perf_counter()
                else:
                    await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the stream failed: keep what we have, report it
            self.error = exc
        finally:
            if gc_was and not gc.isenabled():
                gc.enable()
            if self.on_end is not None:
                self.on_end(self)

    async def cancel(self) -> None:
        """Stop following (closing a window)."""
        if self.task is not None and not self.task.done():
            self.task.cancel()
        try:
            await self.stream.cancel()
        except Exception:
            pass
