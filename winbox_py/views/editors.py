"""One editor widget per property type, chosen from the schema.

Every editor shows and returns values as the text RouterOS prints (the agent
parses them), and says ``changed`` when the person edits it:

- enum -> combo box; multi-choice (``set``) -> check boxes; yes/no -> check box;
- int with a range -> spin box with those limits, and words such as
  ``disabled`` or ``unlimited`` as extra choices in a combo beside it;
- addresses, prefixes, MACs, hosts, durations -> line edits checked as typed
  (a red frame and a tooltip say what is wrong; the agent has the last word);
- references -> an editable combo of the target menu's items (filled later,
  when the dialog has fetched them), plus words like ``none``;
- secrets -> a masked line edit with a reveal toggle.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Callable

from winbox_py.qt import QtWidgets, Signal
from winbox_py.views import icons

INT32_MAX = 2**31 - 1
ERROR_STYLE = "border: 1px solid #d02020; background: #fff0f0;"


class Editor(QtWidgets.QWidget):
    """Base of the editors.

    Attributes:
        prop: the property description from the schema.

    Signals:
        changed: the person edited the value.
    """

    changed = Signal()

    def __init__(self, prop: dict, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.prop = prop
        self.kind = (prop.get("type") or {}).get("kind", "string")
        self._layout = QtWidgets.QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._error: str | None = None

    def value(self) -> str:
        raise NotImplementedError

    def set_value(self, text: str) -> None:
        raise NotImplementedError

    def set_choices(self, names: list[str]) -> None:
        """References: the names of the target menu's items."""

    def set_read_only(self, readonly: bool) -> None:
        self.setEnabled(not readonly)

    def problem(self) -> str | None:
        """What is wrong with the current text, checked locally (None if fine)."""
        return None

    def focus_widget(self) -> QtWidgets.QWidget:
        return self

    def set_error(self, message: str | None) -> None:
        """Show (or clear) an error on this field."""
        self._error = message
        w = self.focus_widget()
        w.setStyleSheet(ERROR_STYLE if message else "")
        w.setToolTip(message or self.prop.get("doc", ""))

    @property
    def error(self) -> str | None:
        return self._error


class LineEditor(Editor):
    """Free text, or text checked by ``check`` (returns a problem or None)."""

    def __init__(self, prop: dict, check: Callable[[str], str | None] | None = None, parent=None):
        super().__init__(prop, parent)
        self.edit = QtWidgets.QLineEdit(self)
        self.edit.setToolTip(prop.get("doc", ""))
        self._layout.addWidget(self.edit)
        self._check = check
        self.edit.textEdited.connect(self._edited)

    def _edited(self, _text: str) -> None:
        problem = self.problem()
        self.set_error(problem)
        self.changed.emit()

    def problem(self) -> str | None:
        text = self.edit.text().strip()
        if text and self._check is not None:
            return self._check(text)
        return None

    def value(self) -> str:
        return self.edit.text()

    def set_value(self, text: str) -> None:
        self.edit.setText(text)

    def set_read_only(self, readonly: bool) -> None:
        self.edit.setReadOnly(readonly)

    def focus_widget(self) -> QtWidgets.QWidget:
        return self.edit


class SecretEditor(LineEditor):
    """A masked field with a button that shows the text while checked."""

    def __init__(self, prop: dict, parent=None):
        super().__init__(prop, None, parent)
        self.edit.setEchoMode(QtWidgets.QLineEdit.Password)
        self.reveal = QtWidgets.QToolButton(self)
        self.reveal.setIcon(icons.icon("eye"))
        self.reveal.setCheckable(True)
        self.reveal.setToolTip("Show the text")
        self.reveal.toggled.connect(
            lambda on: self.edit.setEchoMode(QtWidgets.QLineEdit.Normal if on else QtWidgets.QLineEdit.Password))
        self._layout.addWidget(self.reveal)


class BoolEditor(Editor):
    """yes / no as a check box."""

    def __init__(self, prop: dict, parent=None):
        super().__init__(prop, parent)
        self.box = QtWidgets.QCheckBox(self)
        self.box.setToolTip(prop.get("doc", ""))
        self._layout.addWidget(self.box)
        self._layout.addStretch(1)
        self.box.clicked.connect(lambda _c: self.changed.emit())

    def value(self) -> str:
        return "yes" if self.box.isChecked() else "no"

    def set_value(self, text: str) -> None:
        self.box.setChecked(text.strip().lower() in ("yes", "true", "on"))

    def focus_widget(self) -> QtWidgets.QWidget:
        return self.box


class EnumEditor(Editor):
    """One of a closed list, as a combo box."""

    def __init__(self, prop: dict, parent=None):
        super().__init__(prop, parent)
        self.combo = QtWidgets.QComboBox(self)
        self.combo.setToolTip(prop.get("doc", ""))
        choices = list((prop.get("type") or {}).get("choices", []))
        if not prop.get("required") and not prop.get("default"):
            choices = [""] + choices
        self.combo.addItems(choices)
        self._layout.addWidget(self.combo, 1)
        self.combo.activated.connect(lambda _i: self.changed.emit())

    def value(self) -> str:
        return self.combo.currentText()

    def set_value(self, text: str) -> None:
        i = self.combo.findText(text)
        if i < 0:
            self.combo.addItem(text)
            i = self.combo.count() - 1
        self.combo.setCurrentIndex(i)

    def focus_widget(self) -> QtWidgets.QWidget:
        return self.combo


class SetEditor(Editor):
    """A multi-choice such as ``allow=mschap2,chap``: one check box per choice."""

    def __init__(self, prop: dict, parent=None):
        super().__init__(prop, parent)
        grid_host = QtWidgets.QWidget(self)
        grid = QtWidgets.QGridLayout(grid_host)
        grid.setContentsMargins(0, 0, 0, 0)
        self.boxes: dict[str, QtWidgets.QCheckBox] = {}
        choices = (prop.get("type") or {}).get("choices", [])
        per_row = 3 if len(choices) > 4 else max(1, len(choices))
        for n, choice in enumerate(choices):
            box = QtWidgets.QCheckBox(choice, grid_host)
            box.clicked.connect(lambda _c: self.changed.emit())
            grid.addWidget(box, n // per_row, n % per_row)
            self.boxes[choice] = box
        self._layout.addWidget(grid_host)
        self._layout.addStretch(1)

    def value(self) -> str:
        return ",".join(c for c, b in self.boxes.items() if b.isChecked())

    def set_value(self, text: str) -> None:
        chosen = {w.strip() for w in text.split(",") if w.strip()}
        for c, b in self.boxes.items():
            b.setChecked(c in chosen)


class IntEditor(Editor):
    """An integer in its range: a spin box, with special words in a combo.

    The combo's first entry means "a number" (the spin box is used); choosing a
    word such as ``disabled`` greys the spin box out.
    """

    NUMBER = "number"

    def __init__(self, prop: dict, parent=None):
        super().__init__(prop, parent)
        t = prop.get("type") or {}
        lo = t.get("min")
        hi = t.get("max")
        self.spin = QtWidgets.QSpinBox(self)
        self.spin.setRange(-INT32_MAX if lo is None else max(lo, -INT32_MAX),
                           INT32_MAX if hi is None else min(hi, INT32_MAX))
        self.spin.setToolTip(prop.get("doc", "") + ("\nallowed: %s" % t.get("allowed") if t.get("allowed") else ""))
        if t.get("unit"):
            self.spin.setSuffix(" " + t["unit"])
        self.spin.setKeyboardTracking(True)
        self._blank = False
        self._layout.addWidget(self.spin, 1)
        self.words: list[str] = list(t.get("words") or [])
        self.combo: QtWidgets.QComboBox | None = None
        if self.words:
            self.combo = QtWidgets.QComboBox(self)
            self.combo.addItems([self.NUMBER] + self.words)
            self.combo.activated.connect(self._word_chosen)
            self._layout.addWidget(self.combo)
        self.spin.valueChanged.connect(self._number_changed)

    def _word_chosen(self, index: int) -> None:
        self.spin.setEnabled(index == 0)
        self._blank = False
        self.changed.emit()

    def _number_changed(self, _v: int) -> None:
        self._blank = False
        self.changed.emit()

    def value(self) -> str:
        if self.combo is not None and self.combo.currentIndex() > 0:
            return self.combo.currentText()
        if self._blank:
            return ""
        typed = self.spin.cleanText().strip()
        return typed if typed else str(self.spin.value())

    def set_value(self, text: str) -> None:
        text = text.strip()
        self.spin.blockSignals(True)
        try:
            if self.combo is not None and text in self.words:
                self.combo.setCurrentIndex(self.words.index(text) + 1)
                self.spin.setEnabled(False)
                return
            if self.combo is not None:
                self.combo.setCurrentIndex(0)
                self.spin.setEnabled(True)
            digits = re.sub(r"[^\d-]", "", text)
            if digits and digits != "-":
                self.spin.setValue(int(digits))
                self._blank = False
            else:
                self._blank = True
        finally:
            self.spin.blockSignals(False)

    def set_text(self, text: str) -> None:
        """Type ``text`` as a person would (tests; values beyond the limits are kept
        as typed so the agent's message can be shown)."""
        self.spin.lineEdit().setText(text)
        self._blank = False
        self.changed.emit()

    def focus_widget(self) -> QtWidgets.QWidget:
        return self.spin


class BigIntEditor(LineEditor):
    """Integers beyond a spin box's 32 bits: a line edit checked against the range."""

    def __init__(self, prop: dict, parent=None):
        t = prop.get("type") or {}
        lo, hi, words = t.get("min"), t.get("max"), [w.lower() for w in t.get("words") or []]

        def check(text: str) -> str | None:
            if text.lower() in words:
                return None
            try:
                n = int(text)
            except ValueError:
                return "%s is not an integer" % text
            if (lo is not None and n < lo) or (hi is not None and n > hi):
                return "%s is out of range %s..%s" % (text, "" if lo is None else lo, "" if hi is None else hi)
            return None

        super().__init__(prop, check, parent)


class RefEditor(Editor):
    """A reference: an editable combo of the target menu's item names and words."""

    def __init__(self, prop: dict, parent=None):
        super().__init__(prop, parent)
        t = prop.get("type") or {}
        self.target = t.get("target") or _first_ref_target(t)
        self.multiple = bool(t.get("multiple"))
        self.words = list(t.get("words") or []) + _oneof_words(t)
        self.combo = QtWidgets.QComboBox(self)
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QtWidgets.QComboBox.NoInsert)
        self.combo.setToolTip(prop.get("doc", "") + ("\nallowed: %s" % t["allowed"] if t.get("allowed") else ""))
        self.combo.addItems(([""] if not prop.get("required") else []) + self.words)
        self._layout.addWidget(self.combo, 1)
        self.combo.activated.connect(lambda _i: self.changed.emit())
        self.combo.lineEdit().textEdited.connect(lambda _t: self.changed.emit())

    def set_choices(self, names: list[str]) -> None:
        current = self.combo.currentText()
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems(([""] if not self.prop.get("required") else []) + self.words
                            + [n for n in names if n not in self.words])
        self.combo.setEditText(current)
        self.combo.blockSignals(False)

    def value(self) -> str:
        return self.combo.currentText()

    def set_value(self, text: str) -> None:
        self.combo.setEditText(text)

    def choices(self) -> list[str]:
        return [self.combo.itemText(i) for i in range(self.combo.count())]

    def focus_widget(self) -> QtWidgets.QWidget:
        return self.combo


def _first_ref_target(t: dict) -> str | None:
    for sub in t.get("types", []) or []:
        if sub.get("kind") == "ref":
            return sub.get("target")
    item = t.get("item")
    if isinstance(item, dict) and item.get("kind") == "ref":
        return item.get("target")
    return None


def _oneof_words(t: dict) -> list[str]:
    out: list[str] = []
    for sub in t.get("types", []) or []:
        out.extend(sub.get("words") or [])
        out.extend(sub.get("choices") or [])
    return out


# -- local checks of typed text ---------------------------------------------------------

def _check_ip(version: int | None) -> Callable[[str], str | None]:
    def check(text: str) -> str | None:
        try:
            a = ipaddress.ip_address(text)
        except ValueError:
            return "%s is not a valid %s address" % (text, {4: "IPv4", 6: "IPv6"}.get(version, "IP"))
        if version and a.version != version:
            return "%s is not an IPv%d address" % (text, version)
        return None
    return check


def _check_prefix(version: int | None, strict_host: bool) -> Callable[[str], str | None]:
    def check(text: str) -> str | None:
        try:
            n = ipaddress.ip_interface(text) if strict_host else ipaddress.ip_network(text, strict=False)
        except ValueError:
            return "%s is not a valid address/prefix-length" % text
        if version and n.version != version:
            return "%s is not IPv%d" % (text, version)
        return None
    return check


_MAC = re.compile(r"[0-9A-Fa-f]{2}([:-]?)[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}")
_DURATION = re.compile(r"\d+|(\d+(w|d|h|ms|m|s))+|(\d+d\s*)?\d+:\d\d:\d\d")
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9-]{1,63})*\.?(@\S+)?")


def _check_mac(text: str) -> str | None:
    return None if _MAC.fullmatch(text) else "%s is not a MAC address (like 02:00:00:AA:BB:CC)" % text


def _check_host(text: str) -> str | None:
    try:
        ipaddress.ip_address(text.split("@")[0])
        return None
    except ValueError:
        pass
    return None if _HOST.fullmatch(text) else "%s is not an IP address or host name" % text


def _check_duration(words: list[str]) -> Callable[[str], str | None]:
    def check(text: str) -> str | None:
        if text.lower() in words or _DURATION.fullmatch(text):
            return None
        return "%s is not a time interval (like 30s, 5m, 1h30m)" % text
    return check


def make_editor(prop: dict, parent: QtWidgets.QWidget | None = None) -> Editor:
    """The editor for a property, from its type's kind."""
    t = prop.get("type") or {}
    kind = t.get("kind", "string")
    if prop.get("secret"):
        return SecretEditor(prop, parent)
    if t.get("negatable"):
        return LineEditor(prop, None, parent)
    if kind == "bool":
        return BoolEditor(prop, parent)
    if kind == "enum":
        return EnumEditor(prop, parent)
    if kind == "set":
        return SetEditor(prop, parent)
    if kind == "int":
        lo, hi = t.get("min"), t.get("max")
        if (lo is not None and lo < -INT32_MAX) or (hi is not None and hi > INT32_MAX) or hi is None:
            return BigIntEditor(prop, parent)
        return IntEditor(prop, parent)
    if kind == "ref" or (kind == "oneof" and _first_ref_target(t)):
        return RefEditor(prop, parent)
    if kind == "list" and _first_ref_target(t):
        return RefEditor(prop, parent)
    if kind == "ipv4":
        return LineEditor(prop, _check_ip(4), parent)
    if kind == "ipv6":
        return LineEditor(prop, _check_ip(6), parent)
    if kind == "ip":
        return LineEditor(prop, _check_ip(None), parent)
    if kind == "prefix":
        return LineEditor(prop, _check_prefix(None, False), parent)
    if kind == "address":
        return LineEditor(prop, _check_prefix(None, True), parent)
    if kind == "mac":
        return LineEditor(prop, _check_mac, parent)
    if kind == "host":
        return LineEditor(prop, _check_host, parent)
    if kind == "duration":
        return LineEditor(prop, _check_duration([w.lower() for w in t.get("words") or []]), parent)
    return LineEditor(prop, None, parent)


class ReadOnlyField(QtWidgets.QLineEdit):
    """A value the router reports (Status tab): read-only, live."""

    def __init__(self, prop: dict, parent=None):
        super().__init__(parent)
        self.prop = prop
        self.setReadOnly(True)
        self.setFrame(False)
        self.setToolTip(prop.get("doc", ""))
        self.setStyleSheet("background: transparent;")

    def set_value(self, text: str) -> None:
        if self.text() != text:
            self.setText(text)

    def value(self) -> str:
        return self.text()


def label_for(prop: dict) -> str:
    """The field label: ``max-mtu`` -> ``Max MTU:``."""
    from winbox_py.backend.tabledata import title
    return title(prop["name"]) + ":"


