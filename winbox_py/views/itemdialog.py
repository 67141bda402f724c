"""The item dialog: one item of a menu, built from the schema.

Tabs follow each property's ``tab``; read-only properties the router reports
go to a Status tab and stay live while the dialog is open (the owning table's
model tells the dialog when its item changes). Buttons down the right side as
in WinBox: OK, Cancel, Apply, Disable/Enable, Comment, Copy, Remove.

Apply sends only what changed, with the values the form was loaded with
(``expect``): if someone else changed those properties meanwhile, the agent
refuses the outdated write as a conflict, shown on the field with a Reload
button. When the agent refuses, its message is shown on the field it
concerns (RpcError.property), that tab is brought forward, and everything
typed stays as it was. A change that may cut the connection to the router
is asked about first (views/safemode.py).
"""

from __future__ import annotations

from typing import Any, Callable

from winbox_py.backend.models import TableModel
from winbox_py.backend.tabledata import ID, title
from winbox_py.qt import Qt, QtWidgets, Signal
from winbox_py.views import jobs
from winbox_py.views.commentdialog import CommentDialog
from winbox_py.views.editors import Editor, ReadOnlyField, RefEditor, label_for, make_editor
from winbox_py.views.errors import plain
from winbox_py.views.livetabs import LiveTabs
from winbox_py.views.safemode import confirm_impact

STATUS_TAB = "Status"


class ItemDialog(QtWidgets.QDialog):
    """Edits (or adds) one item.

    Attributes:
        menu: the schema's description of the menu.
        item_id: the item edited, or None while adding a new one.
        editors: property name -> Editor.
        status_fields: property name -> ReadOnlyField (live values).
        original: the values as last loaded or applied (strings).

    Signals:
        applied(str): an add or set went through (the item's id).
        closed: the dialog went away.
    """

    applied = Signal(str)
    closed = Signal()

    def __init__(self, session: Any, menu: dict, item_id: str | None, model: TableModel | None = None,
                 initial: dict[str, str] | None = None, parent: QtWidgets.QWidget | None = None,
                 open_dialog: Callable[..., Any] | None = None):
        super().__init__(parent)
        self.setAttribute(Qt.WA_DeleteOnClose)
        self.session = session
        self.menu = menu
        self.path = menu["path"]
        self.single = bool(menu.get("single"))
        self.item_id = item_id
        self.model = model
        self._open_dialog = open_dialog
        self.props = {p["name"]: p for p in menu.get("props", [])}
        self.editors: dict[str, Editor] = {}
        self.status_fields: dict[str, ReadOnlyField] = {}
        self.original: dict[str, str] = {}
        self.dirty: set[str] = set()
        self._busy = False
        self._new_disabled: str | None = None
        self._build()
        self.live = LiveTabs(self, self._buttons)  # Status (monitor), Traffic, Scan where the menu has them
        self._connect_signals()
        self.live.start(item_id)
        if item_id is None and not self.single:
            self._fill_defaults(initial or {})
        else:
            jobs.spawn(self._load(), on_error=self._show_error)
        jobs.spawn(self._load_choices(), on_error=lambda exc: None)
        self._update_title()

    # -- building ---------------------------------------------------------------------
    def _tab_of(self, p: dict) -> str:
        tab = p.get("tab") or "General"
        if p.get("readonly") and tab == "General":
            return STATUS_TAB
        return tab

    def _build(self) -> None:
        self.tabs = QtWidgets.QTabWidget(self)
        forms: dict[str, QtWidgets.QFormLayout] = {}
        pages: dict[str, QtWidgets.QWidget] = {}
        order = []
        for p in self.menu.get("props", []):
            if p["name"] in ("disabled", "comment") and not self.single:
                continue  # the Disable/Enable and Comment buttons handle these, as in WinBox
            tab = self._tab_of(p)
            if tab not in forms:
                page = QtWidgets.QWidget()
                form = QtWidgets.QFormLayout(page)
                form.setFieldGrowthPolicy(QtWidgets.QFormLayout.AllNonFixedFieldsGrow)
                form.setLabelAlignment(Qt.AlignRight | Qt.AlignVCenter)
                forms[tab], pages[tab] = form, page
                order.append(tab)
            if p.get("readonly"):
                field = ReadOnlyField(p, pages[tab])
                self.status_fields[p["name"]] = field
                forms[tab].addRow(label_for(p), field)
            else:
                editor = make_editor(p, pages[tab])
                editor.setObjectName("editor-" + p["name"])
                self.editors[p["name"]] = editor
                forms[tab].addRow(label_for(p), editor)
        if STATUS_TAB in order:  # the Status tab comes last, as in WinBox
            order.remove(STATUS_TAB)
            order.append(STATUS_TAB)
        self._tab_names = order
        for tab in order:
            scroll = QtWidgets.QScrollArea(self.tabs)
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QtWidgets.QFrame.NoFrame)
            scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
            scroll.setWidget(pages[tab])
            self.tabs.addTab(scroll, tab)
        self._pages = pages

        self.ok_button = QtWidgets.QPushButton("OK", self)
        self.ok_button.setDefault(True)
        self.cancel_button = QtWidgets.QPushButton("Cancel", self)
        self.apply_button = QtWidgets.QPushButton("Apply", self)
        self.toggle_button = QtWidgets.QPushButton("Disable", self)
        self.comment_button = QtWidgets.QPushButton("Comment", self)
        self.copy_button = QtWidgets.QPushButton("Copy", self)
        self.remove_button = QtWidgets.QPushButton("Remove", self)
        self.reload_button = QtWidgets.QPushButton("Reload", self)  # shown after an outdated-write conflict
        self.reload_button.setVisible(False)
        buttons = QtWidgets.QVBoxLayout()
        for b in (self.ok_button, self.cancel_button, self.apply_button, self.toggle_button,
                  self.comment_button, self.copy_button, self.remove_button):
            b.setMinimumWidth(96)
            buttons.addWidget(b)
        buttons.addStretch(1)
        self._buttons = buttons
        has_disabled = "disabled" in self.props or "enabled" in self.props
        readonly_menu = bool(self.menu.get("readonly"))
        self.toggle_button.setVisible(has_disabled and not self.single and not readonly_menu)
        self.comment_button.setVisible("comment" in self.props and not self.single and not readonly_menu)
        self.copy_button.setVisible(bool(self.menu.get("can_add")) and not self.single)
        self.remove_button.setVisible(bool(self.menu.get("can_remove")) and not self.single)
        for b in (self.ok_button, self.apply_button):
            b.setEnabled(not readonly_menu)

        body = QtWidgets.QHBoxLayout()
        body.addWidget(self.tabs, 1)
        body.addLayout(buttons)
        self.state_label = QtWidgets.QLabel(self)
        self.error_label = QtWidgets.QLabel(self)
        self.error_label.setObjectName("error")
        self.error_label.setStyleSheet("color: #c01818;")
        self.error_label.setWordWrap(True)
        bar = QtWidgets.QHBoxLayout()
        bar.addWidget(self.state_label)
        bar.addWidget(self.error_label, 1)
        bar.addWidget(self.reload_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addLayout(bar)
        self.resize(620, 480)

    def _connect_signals(self) -> None:
        for name, editor in self.editors.items():
            editor.changed.connect(lambda n=name: self._edited(n))
        self.ok_button.clicked.connect(self.ok)
        self.cancel_button.clicked.connect(self.close)
        self.apply_button.clicked.connect(self.apply)
        self.toggle_button.clicked.connect(self.toggle)
        self.comment_button.clicked.connect(self.edit_comment)
        self.copy_button.clicked.connect(self.copy)
        self.remove_button.clicked.connect(self.remove)
        self.reload_button.clicked.connect(self.reload)
        if self.model is not None:
            self.model.row_changed.connect(self._row_changed)
            self.model.row_removed.connect(self._row_removed)

    # -- values -----------------------------------------------------------------------------
    def _fill_defaults(self, initial: dict[str, str]) -> None:
        values = {}
        for name, p in self.props.items():
            default = p.get("default")
            values[name] = "" if default is None else str(default)
        self.original = dict(values)
        values.update(initial)
        self._show_values(values, force=True)
        for name in initial:
            if name in self.editors and initial[name] != self.original.get(name, ""):
                self.dirty.add(name)

    async def _load(self) -> None:
        if self.single and self.item_id is None:
            rows = await self.session.print(self.path, sensitive=True)
            values = rows[0] if rows else {}
            self.item_id = values.get(ID)
        else:
            values = await self.session.get(self.path, self.item_id, sensitive=True)
        self.original = {k: v for k, v in values.items()}
        self._show_values(values, force=True)
        self._update_title()

    def _show_values(self, values: dict[str, str], force: bool = False) -> None:
        for name, editor in self.editors.items():
            if name in values and (force or name not in self.dirty):
                editor.set_value(values[name])
        for name, field in self.status_fields.items():
            if name in values:
                field.set_value(values[name])
        self._show_state(values)

    def _show_state(self, values: dict[str, str]) -> None:
        words = []
        if "disabled" in values or "disabled" in self.props:
            disabled = values.get("disabled", self.original.get("disabled", "no")) == "yes"
            words.append("disabled" if disabled else "enabled")
            self.toggle_button.setText("Enable" if disabled else "Disable")
        if values.get("running") == "yes":
            words.append("running")
        flags = values.get(".flags", "")
        if "D" in flags:
            words.append("dynamic")
        self.state_label.setText("   ".join(words))

    async def _load_choices(self) -> None:
        for editor in self.editors.values():
            if isinstance(editor, RefEditor) and editor.target:
                target = "/interface" if editor.target == "interface" else editor.target
                if target not in self.session.schema:
                    continue
                rows = await self.session.print(target)
                names = [r.get("name") or r.get(ID, "") for r in rows]
                editor.set_choices([n for n in names if n])

    def _edited(self, name: str) -> None:
        self.dirty.add(name)
        self.editors[name].set_error(self.editors[name].problem())

    def changes(self) -> tuple[dict[str, str], list[str]]:
        """What to send: values that differ from the original, and names to unset."""
        values: dict[str, str] = {}
        unset: list[str] = []
        adding = self.item_id is None and not self.single
        for name, editor in self.editors.items():
            now = editor.value()
            before = self.original.get(name, "")
            if now == before:
                if adding and self.props[name].get("required") and now:
                    values[name] = now
                continue
            if now == "" and not adding and editor.kind not in ("string", "name"):
                unset.append(name)
            elif now != "" or not adding:
                values[name] = now
        return values, unset

    # -- live updates -----------------------------------------------------------------------
    def _row_changed(self, item_id: str) -> None:
        if item_id != self.item_id or self.model is None:
            return
        row = self.model.row_dict(item_id)
        for name, field in self.status_fields.items():
            if name in row:
                field.set_value(row[name])
        for name, editor in self.editors.items():
            if name in row and name not in self.dirty and not self.props[name].get("secret"):
                if row[name] != self.original.get(name):
                    self.original[name] = row[name]
                    editor.set_value(row[name])
        for name in ("disabled", "comment"):
            if name in row:
                self.original[name] = row[name]
        self._show_state(row)

    def connection_back(self) -> None:
        """After a reconnect: show what changed while the connection was down
        (fields being edited keep what was typed, and the values they were
        loaded with, so an outdated write is still caught)."""
        if self.item_id is None:
            return
        jobs.spawn(self._refresh(), on_error=self._show_error)

    async def _refresh(self) -> None:
        try:
            if self.single:
                rows = await self.session.print(self.path, sensitive=True)
                values = rows[0] if rows else {}
            else:
                values = await self.session.get(self.path, self.item_id, sensitive=True)
        except Exception as exc:
            if getattr(exc, "problem", None) == "missing":
                self._row_removed(self.item_id)
                return
            raise
        for name, value in values.items():
            if name not in self.dirty:
                self.original[name] = value
        self._show_values(values)

    def _row_removed(self, item_id: str) -> None:
        if item_id == self.item_id:
            self.error_label.setText("This item was removed.")
            for b in (self.ok_button, self.apply_button, self.toggle_button, self.comment_button, self.remove_button):
                b.setEnabled(False)

    # -- actions ----------------------------------------------------------------------------------
    def apply(self) -> None:
        jobs.spawn(self._apply(), on_error=self._show_error)

    def ok(self) -> None:
        async def apply_and_close() -> None:
            if await self._apply():
                self.close()
        jobs.spawn(apply_and_close(), on_error=self._show_error)

    async def _apply(self) -> bool:
        if self._busy:
            return False
        values, unset = self.changes()
        problems = {n: e.problem() for n, e in self.editors.items() if n in values and e.problem()}
        for name, editor in self.editors.items():
            editor.set_error(problems.get(name))
        self.error_label.clear()
        self._busy = True
        try:
            if self.item_id is None and not self.single:
                if self._new_disabled is not None and self._new_disabled != self.original.get("disabled"):
                    values["disabled"] = self._new_disabled
                if not await confirm_impact(self, self.session, self.path, "add", None, values):
                    return False
                new_id = await self.session.add(self.path, values)
                self.item_id = new_id
                self.live.start(new_id)
                self.original.update(values)
                self.dirty.clear()
                self._update_title()
                self.applied.emit(new_id)
                jobs.spawn(self._load(), on_error=self._show_error)
                return True
            ids = [] if self.single else [self.item_id]
            if values and not await confirm_impact(self, self.session, self.path, "set", ids, values):
                return False
            if values:
                await self.session.set(self.path, ids, values, expect=self._expected(values))
            if unset:
                await self.session.unset(self.path, ids, unset, expect=self._expected(unset))
            self.original.update(values)
            for n in unset:
                self.original[n] = ""
            self.dirty.clear()
            self.applied.emit(self.item_id or "")
            return True
        except Exception as exc:
            self._show_error(exc)
            return False
        finally:
            self._busy = False

    def _expected(self, names) -> dict[str, str]:
        """The loaded values of what is being written: the agent refuses the
        write if someone changed them since (an outdated form)."""
        return {n: self.original[n] for n in names if n in self.original}

    def reload(self) -> None:
        """After a conflict: show the item as it is now (what was typed is dropped)."""
        self.dirty.clear()
        self.reload_button.setVisible(False)
        self.error_label.clear()
        for editor in self.editors.values():
            editor.set_error(None)
        jobs.spawn(self._load(), on_error=self._show_error)

    def toggle(self) -> None:
        disabled = self.toggle_button.text() == "Enable"
        if self.item_id is None:  # a new item: the choice goes with the add
            self._new_disabled = "no" if disabled else "yes"
            self._show_state({"disabled": self._new_disabled})
            return

        async def go() -> None:
            action = "enable" if disabled else "disable"
            if await confirm_impact(self, self.session, self.path, action, [self.item_id]):
                await (self.session.enable if disabled else self.session.disable)(self.path, [self.item_id])
        jobs.spawn(go(), on_error=self._show_error)

    def edit_comment(self) -> None:
        text = self.model.value(self.item_id, "comment") if self.model is not None else self.original.get("comment", "")
        dlg = CommentDialog("Comment %s" % self._item_name(), text,
                            lambda t: jobs.spawn(self.session.comment(self.path, [self.item_id], t),
                                                 on_error=self._show_error), self)
        dlg.show()

    def copy(self) -> None:
        values = {n: e.value() for n, e in self.editors.items()}
        values.pop("name", None)
        if self._open_dialog is not None:
            self._open_dialog(None, initial=values)

    def remove(self) -> None:
        async def go() -> None:
            if not await confirm_impact(self, self.session, self.path, "remove", [self.item_id]):
                return
            await self.session.remove(self.path, [self.item_id])
            self.close()
        jobs.spawn(go(), on_error=self._show_error)

    # -- errors and title -------------------------------------------------------------------------
    def _show_error(self, exc: BaseException) -> None:
        prop = getattr(exc, "property", None)
        message = plain(exc)
        self.error_label.setText(message)
        if getattr(exc, "problem", None) == "conflict" and self.item_id is not None:
            self.reload_button.setVisible(True)   # an outdated form: offer the values as they are now
        editor = self.editors.get(prop) if prop else None
        if editor is not None:
            editor.set_error(message)
            page = editor.parentWidget()
            for i in range(self.tabs.count()):
                scroll = self.tabs.widget(i)
                if isinstance(scroll, QtWidgets.QScrollArea) and scroll.widget() is page:
                    self.tabs.setCurrentIndex(i)
            editor.focus_widget().setFocus()

    def _item_name(self) -> str:
        if self.item_id is None:
            return ""
        name = ""
        if "name" in self.editors:
            name = self.original.get("name", "") or self.editors["name"].value()
        return name or self.item_id

    def _update_title(self) -> None:
        menu_title = self.menu.get("title") or title(self.path.rsplit("/", 1)[-1])
        if self.single:
            self.setWindowTitle(menu_title)
        elif self.item_id is None:
            self.setWindowTitle("New %s" % menu_title)
        else:
            self.setWindowTitle("%s <%s>" % (menu_title, self._item_name()))

    def closeEvent(self, event) -> None:
        self.live.stop()
        self.closed.emit()
        super().closeEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)


