"""The table of one menu: toolbar, quick find, filter stack, live rows.

A :class:`TablePane` follows its menu (``Session.follow``) into a
:class:`~winbox_py.backend.models.TableModel`, so another session's change
appears without refresh. The toolbar and keys are WinBox's: Insert adds,
Delete removes, Ctrl+E enables, Ctrl+D disables, Ctrl+M comments, Ctrl+F
finds, Enter opens, F5 reloads. Sorting is by clicking a header (the model
sorts in Python); the header's context menu chooses columns, remembered per
router.
"""

from __future__ import annotations

from typing import Any, Callable

from winbox_py.backend.models import Feed, TableModel
from winbox_py.backend.settings import Settings
from winbox_py.backend.tabledata import FLAGS, columns_for
from winbox_py.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from winbox_py.views import icons, jobs
from winbox_py.views.commentdialog import CommentDialog
from winbox_py.views.errors import plain
from winbox_py.views.filterbar import FilterBar
from winbox_py.views.rowdelegate import RowDelegate
from winbox_py.views.safemode import confirm_impact
from winbox_py.views.tablelive import TableLive, with_rate_columns

ROW_HEIGHT = 20


def configure_view(view: QtWidgets.QTableView) -> None:
    """How every table window's view is set up for big live tables: fixed row
    heights, no row numbers, no sort until a header is clicked (STYLE.md)."""
    view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
    view.setSelectionMode(QtWidgets.QAbstractItemView.ExtendedSelection)
    view.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setSectionResizeMode(QtWidgets.QHeaderView.Fixed)
    view.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
    header = view.horizontalHeader()
    header.setSectionsMovable(True)
    header.setHighlightSections(False)
    header.setStretchLastSection(True)
    header.setSortIndicator(-1, Qt.AscendingOrder)  # no accidental sort by column 0
    header.setSortIndicatorShown(True)
    view.setSortingEnabled(True)


class TablePane(QtWidgets.QWidget):
    """One menu's table.

    Attributes:
        menu: the schema description.
        model: the TableModel.
        view: the QTableView.
        feed: the Feed following the menu (None while stopped).

    Signals:
        open_item(str, object): open a dialog for an item id (None: new), with
            initial values (dict or None).
        message(str): a line for the status bar (errors in plain words).
    """

    open_item = Signal(object, object)
    message = Signal(str)

    def __init__(self, session: Any, menu: dict, settings: Settings | None = None, router_key: str = "",
                 parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.menu = menu
        self.path = menu["path"]
        self.settings = settings
        self.router_key = router_key
        self.feed: Feed | None = None
        self.columns = with_rate_columns(menu, columns_for(menu))
        self.model = TableModel(self.columns, self)
        self.props = {p["name"]: p for p in menu.get("props", [])}
        self._build()
        self.live = TableLive(self)  # rate columns, Authorize, row menu, stopped state
        self._connect_signals()
        self._restore_columns()

    # -- building -------------------------------------------------------------------------------
    def _build(self) -> None:
        m = self.menu
        writable = not m.get("readonly")
        self.toolbar = QtWidgets.QToolBar(self)
        self.toolbar.setIconSize(QtCore.QSize(16, 16))
        self.add_action = self._action("add", "Add (Insert)", QtGui.QKeySequence(Qt.Key_Insert), self.add_item,
                                       writable and m.get("can_add"))
        self.remove_action = self._action("remove", "Remove (Delete)", QtGui.QKeySequence(Qt.Key_Delete),
                                          self.remove_selected, writable and m.get("can_remove"))
        has_toggle = writable and ("disabled" in self.props or "enabled" in self.props) and not m.get("single")
        self.enable_action = self._action("enable", "Enable (Ctrl+E)", QtGui.QKeySequence("Ctrl+E"),
                                          self.enable_selected, has_toggle)
        self.disable_action = self._action("disable", "Disable (Ctrl+D)", QtGui.QKeySequence("Ctrl+D"),
                                           self.disable_selected, has_toggle)
        self.comment_action = self._action("comment", "Comment (Ctrl+M)", QtGui.QKeySequence("Ctrl+M"),
                                           self.comment_selected, writable and "comment" in self.props)
        self.copy_action = self._action("copy", "Copy", None, self.copy_selected, writable and m.get("can_add"))
        self.filter_action = self._action("filter", "Filter", None, self.toggle_filters, True)
        self.filter_action.setCheckable(True)
        self.refresh_action = self._action("refresh", "Reload (F5)", QtGui.QKeySequence(Qt.Key_F5), self.restart, True,
                                           in_toolbar=False)
        self.command_buttons: dict[str, QtWidgets.QToolButton] = {}
        for cmd in m.get("commands", []):
            button = QtWidgets.QToolButton(self)
            button.setText(cmd["name"].replace("-", " ").title())
            button.setToolTip(cmd.get("doc") or cmd["name"])
            button.setAutoRaise(True)
            button.clicked.connect(lambda _c=False, c=cmd: self.run_command(c))
            self.toolbar.addWidget(button)
            self.command_buttons[cmd["name"]] = button
        spacer = QtWidgets.QWidget(self)
        spacer.setSizePolicy(QtWidgets.QSizePolicy.Expanding, QtWidgets.QSizePolicy.Preferred)
        self.toolbar.addWidget(spacer)
        self.find = QtWidgets.QLineEdit(self)
        self.find.setPlaceholderText("Find")
        self.find.setClearButtonEnabled(True)
        self.find.setMaximumWidth(180)
        self.toolbar.addWidget(self.find)
        find_action = QtGui.QAction(self)
        find_action.setShortcut(QtGui.QKeySequence.Find)
        find_action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
        find_action.triggered.connect(lambda: (self.find.setFocus(), self.find.selectAll()))
        self.addAction(find_action)

        self.filters = FilterBar(self.columns, self)
        self.filters.setVisible(False)

        self.view = QtWidgets.QTableView(self)
        self.view.setModel(self.model)
        self.view.setItemDelegate(RowDelegate(self.view))
        configure_view(self.view)
        header = self.view.horizontalHeader()
        header.setContextMenuPolicy(Qt.CustomContextMenu)
        header.resizeSection(0, 34)
        widths = {"mac": 135, "address": 130, "prefix": 130, "ipv6": 170, "key": 200, "string": 140, "name": 120}
        for c in self.columns[1:]:
            header.resizeSection(c.index, widths.get(c.kind, 100))

        self.status = QtWidgets.QLabel(self)
        self.status.setObjectName("items")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.filters)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)

    def _action(self, icon_name: str, text: str, key: QtGui.QKeySequence | None, slot: Callable[[], None],
                visible: Any, in_toolbar: bool = True) -> QtGui.QAction:
        action = QtGui.QAction(icons.icon(icon_name), text, self)
        if key is not None:
            action.setShortcut(key)
            action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        if visible:
            if in_toolbar:
                self.toolbar.addAction(action)
            self.addAction(action)
        action.setEnabled(bool(visible))
        return action

    def _connect_signals(self) -> None:
        self.view.doubleClicked.connect(lambda index: self.open_item.emit(self.model.item_id(index.row()), None))
        self.view.activated.connect(lambda index: self.open_item.emit(self.model.item_id(index.row()), None))
        self.view.horizontalHeader().customContextMenuRequested.connect(self._column_menu)
        self.view.horizontalHeader().sectionResized.connect(lambda *_: self._save_layout())
        self.view.horizontalHeader().sortIndicatorChanged.connect(lambda *_: self._save_layout())
        self.model.counts_changed.connect(self._show_counts)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._show_counts())
        self.find.textChanged.connect(self._find_changed)
        self.filters.changed.connect(lambda rules: self.model.set_filter(rules, self.find.text()))

    # -- following ---------------------------------------------------------------------------
    def start(self) -> None:
        """Follow the menu (the current rows, then every change)."""
        stream = self.live.wrap(self.session.follow(self.path))
        self.feed = Feed(self.model, stream, on_end=self._feed_ended).start()

    def _feed_ended(self, feed: Feed) -> None:
        self.live.feed_ended(feed)
        if feed is self.feed and feed.error is not None:
            self.message.emit("%s: %s" % (self.menu.get("title", self.path), plain(feed.error)))

    def stop(self) -> None:
        if self.feed is not None:
            feed, self.feed = self.feed, None
            jobs.spawn(feed.cancel(), on_error=lambda exc: None)

    def restart(self) -> None:
        """F5, and after a reconnect: forget the rows and follow again."""
        self.stop()
        self.model.clear()
        self.start()

    def connection_lost(self) -> None:
        """The session dropped: the rows are stale, show none. The session
        resubscribes the stream when it reconnects (a new listing follows)."""
        self.model.clear()
        self.view.setEnabled(False)
        self.status.setText("connection lost")

    def connection_back(self) -> None:
        self.view.setEnabled(True)
        self._show_counts()

    # -- selection and actions ----------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.item_id(r) for r in rows]

    def _run(self, coro) -> None:
        jobs.spawn(coro, on_error=lambda exc: self.message.emit(plain(exc)))

    def add_item(self) -> None:
        self.open_item.emit(None, None)

    def _checked(self, action: str, ids: list[str], call) -> None:
        """Send a change, asking first if it may cut the connection (safemode.py)."""
        async def go() -> None:
            if await confirm_impact(self, self.session, self.path, action, ids):
                await call(self.path, ids)
        self._run(go())

    def remove_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self._checked("remove", ids, self.session.remove)

    def enable_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self._checked("enable", ids, self.session.enable)

    def disable_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self._checked("disable", ids, self.session.disable)

    def comment_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        text = self.model.value(ids[0], "comment")
        dlg = CommentDialog("Comment", text, lambda t: self._run(self.session.comment(self.path, ids, t)), self)
        dlg.show()
        self.comment_dialog = dlg

    def copy_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        row = self.model.row_dict(ids[0])
        initial = {k: v for k, v in row.items()
                   if k in self.props and not self.props[k].get("readonly") and k != "name" and v != ""}
        self.open_item.emit(None, initial)

    def run_command(self, cmd: dict) -> None:
        from winbox_py.views.commandwindow import CommandWindow
        ids = self.selected_ids()
        item = ids[0] if ids else None
        if cmd.get("item") and item is None:
            self.message.emit("%s: select an item first" % cmd["name"])
            return
        win = CommandWindow(self.session, self.menu, cmd, item, self.model.value(item, "name") if item else "",
                            self.window())
        win.show()

    def toggle_filters(self) -> None:
        show = not self.filters.isVisible()
        self.filters.setVisible(show)
        self.filter_action.setChecked(show)
        if show and not self.filters.lines:
            self.filters.add_line()
        if not show:
            self.model.set_filter([], self.find.text())

    def _find_changed(self, text: str) -> None:
        self.model.set_find_columns(self.shown_columns_indexes())
        self.model.set_filter(self.filters.rules() if self.filters.isVisible() else [], text)

    def _show_counts(self, *_: Any) -> None:
        shown, total = self.model.rowCount(), self.model.total
        text = "%d item%s" % (shown, "" if shown == 1 else "s")
        if shown != total:
            text += " out of %d" % total
        selected = len(self.view.selectionModel().selectedRows()) if self.view.selectionModel() else 0
        if selected:
            text += " (%d selected)" % selected
        if not self.model.loaded and self.feed is not None:
            text += "  loading..."
        self.status.setText(text)

    # -- columns --------------------------------------------------------------------------------
    def shown_columns(self) -> list[str]:
        header = self.view.horizontalHeader()
        return [c.field for c in sorted(self.columns, key=lambda c: header.visualIndex(c.index))
                if not header.isSectionHidden(c.index)]

    def shown_columns_indexes(self) -> list[int]:
        header = self.view.horizontalHeader()
        return [c.index for c in self.columns if not header.isSectionHidden(c.index)]

    def set_shown_columns(self, fields: list[str]) -> None:
        header = self.view.horizontalHeader()
        wanted = [f for f in fields if self.model.column_of(f) >= 0]
        if FLAGS not in wanted:
            wanted.insert(0, FLAGS)
        for c in self.columns:
            header.setSectionHidden(c.index, c.field not in wanted)
        for pos, f in enumerate(wanted):
            header.moveSection(header.visualIndex(self.model.column_of(f)), pos)
        self.model.set_find_columns(self.shown_columns_indexes())

    def _column_menu(self, pos: QtCore.QPoint) -> None:
        menu = self.column_menu()
        menu.exec(self.view.horizontalHeader().mapToGlobal(pos))

    def column_menu(self) -> QtWidgets.QMenu:
        """The column chooser: one checkable entry per column."""
        menu = QtWidgets.QMenu(self)
        header = self.view.horizontalHeader()
        for c in self.columns[1:]:
            action = menu.addAction(c.title)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(c.index))
            action.toggled.connect(lambda on, c=c: self._toggle_column(c.field, on))
        menu.addSeparator()
        menu.addAction("Reset to defaults", lambda: self._reset_columns())
        return menu

    def _toggle_column(self, field: str, on: bool) -> None:
        fields = self.shown_columns()
        if on and field not in fields:
            fields.append(field)
        elif not on and field in fields:
            fields.remove(field)
        self.set_shown_columns(fields)
        self._save_layout()

    def _reset_columns(self) -> None:
        self.set_shown_columns(self.live.default_columns())
        self._save_layout()

    def _restore_columns(self) -> None:
        saved = self.settings.columns(self.router_key, self.path) if self.settings else None
        self.set_shown_columns(saved or self.live.default_columns())
        if self.settings:
            w = self.settings.window(self.router_key, self.path)
            widths = w.get("widths") or {}
            for field, width in widths.items():
                i = self.model.column_of(field)
                if i >= 0 and isinstance(width, int) and 10 <= width <= 2000:
                    self.view.horizontalHeader().resizeSection(i, width)

    def _save_layout(self) -> None:
        if not self.settings:
            return
        self.settings.set_columns(self.router_key, self.path, self.shown_columns())
        header = self.view.horizontalHeader()
        self.settings.window(self.router_key, self.path)["widths"] = {
            c.field: header.sectionSize(c.index) for c in self.columns if not header.isSectionHidden(c.index)}
