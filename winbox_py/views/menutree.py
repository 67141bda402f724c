"""The menu down the left of the main window, built from the schema.

WinBox's order and names: Interfaces, WireGuard, Bridge, PPP, IP >, IPv6 >,
System >, MetaROUTER, ZeroTier, Log, New Terminal. :func:`layout` places each
menu of the schema: a group such as PPP or ZeroTier becomes one entry whose
window has a tab per menu (as WinBox's PPP window has Interface, Secrets,
Profiles, Active Connections...), while IP, IPv6 and System are branches with
one entry per menu (menus under the same word, such as the firewall's filter
and NAT, share one tabbed window). Groups the schema adds later appear too,
before Log. A search box above filters the tree as you type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from winbox_py.backend.tabledata import title
from winbox_py.qt import Qt, QtWidgets, Signal
from winbox_py.views import icons

ORDER = ["Interfaces", "WireGuard", "Bridge", "PPP", "IP", "IPv6", "Routing", "System", "MetaROUTER",
         "ZeroTier", "Queues", "Files", "Tools", "Log"]
BRANCHES = {"IP", "IPv6", "System", "Routing", "Tools"}
TERMINAL = "New Terminal"

# group by the first word of the path when a menu names none
_BY_WORD = {"interface": "Interfaces", "ip": "IP", "ipv6": "IPv6", "system": "System", "ppp": "PPP",
            "zerotier": "ZeroTier", "metarouter": "MetaROUTER", "log": "Log", "routing": "Routing",
            "tool": "Tools", "queue": "Queues", "file": "Files"}
# interface kinds that WinBox shows in their own windows
_BY_PREFIX = [("/interface/wireguard", "WireGuard"), ("/interface/bridge", "Bridge"),
              ("/interface/pppoe", "PPP"), ("/interface/l2tp", "PPP"), ("/interface/pptp", "PPP"),
              ("/interface/sstp", "PPP"), ("/interface/ovpn", "PPP")]


@dataclass
class Entry:
    """One clickable line of the tree.

    Attributes:
        label: the text shown.
        paths: the menus its window shows (one tab each when several).
        key: a stable id for remembering open windows (the first path, or
            ``terminal``).
    """

    label: str
    paths: list[str] = field(default_factory=list)
    key: str = ""


@dataclass
class Node:
    """A top-level line: an entry, or a branch of entries."""

    label: str
    entry: Entry | None = None
    children: list[Entry] = field(default_factory=list)


def group_of(path: str, menu: dict) -> str:
    """The tree group of a menu: the schema's, or one derived from its path."""
    g = menu.get("group") or ""
    if g:
        for known in ORDER:  # accept different capitalisation ("Metarouter")
            if known.lower() == g.lower():
                return known
        return g
    for prefix, group in _BY_PREFIX:
        if path.startswith(prefix):
            return group
    word = path.strip("/").split("/")[0]
    return _BY_WORD.get(word, word.capitalize())


def layout(schema: dict[str, dict]) -> list[Node]:
    """The tree for a schema, in WinBox order."""
    groups: dict[str, list[str]] = {}
    for path, menu in schema.items():
        if menu.get("hidden"):
            continue
        groups.setdefault(group_of(path, menu), []).append(path)
    names = [g for g in ORDER if g in groups and g != "Log"]
    names += [g for g in groups if g not in ORDER]
    if "Log" in groups:
        names.append("Log")
    nodes: list[Node] = []
    for g in names:
        # interfaces of the group first (PPP: the clients and servers), then the rest, each in schema order
        paths = sorted(groups[g], key=lambda p: -1 if p == "/interface" else 0 if schema[p].get("interface_type") else 1)
        if g in BRANCHES:
            nodes.append(Node(g, None, _branch_entries(g, paths, schema)))
        else:
            label = g
            if len(paths) == 1:
                label = schema[paths[0]].get("title") or g
                if g in ("Interfaces", "Log", "WireGuard", "Bridge", "PPP", "ZeroTier", "MetaROUTER"):
                    label = g
            nodes.append(Node(label, Entry(label, paths, paths[0])))
    nodes.append(Node(TERMINAL, Entry(TERMINAL, [], "terminal")))
    return nodes


def _branch_entries(group: str, paths: list[str], schema: dict[str, dict]) -> list[Entry]:
    by_word: dict[str, list[str]] = {}
    for p in paths:
        words = p.strip("/").split("/")
        word = words[1] if len(words) > 1 else words[0]
        by_word.setdefault(word, []).append(p)
    out = []
    for word, ps in by_word.items():
        if len(ps) == 1:
            label = schema[ps[0]].get("title") or title(word)
        else:
            label = title(word)
        out.append(Entry(label, ps, ps[0]))
    return out


def tab_title(path: str, schema: dict[str, dict]) -> str:
    return schema.get(path, {}).get("title") or title(path.rsplit("/", 1)[-1])


class MenuTree(QtWidgets.QWidget):
    """The search box and the tree.

    Signals:
        chosen(object): an Entry was activated (clicked or Enter).
    """

    chosen = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.search = QtWidgets.QLineEdit(self)
        self.search.setPlaceholderText("Search menu")
        self.search.setClearButtonEnabled(True)
        self.tree = QtWidgets.QTreeWidget(self)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setIndentation(14)
        self.tree.setUniformRowHeights(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        self.nodes: list[Node] = []
        self.tree.itemClicked.connect(self._clicked)
        self.tree.itemActivated.connect(self._clicked)
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._first_match)
        self.setMinimumWidth(150)

    def populate(self, schema: dict[str, dict]) -> None:
        self.tree.clear()
        self.nodes = layout(schema)
        for node in self.nodes:
            item = QtWidgets.QTreeWidgetItem([node.label + (" \u25B8" if node.children else "")])
            if node.entry is not None:
                item.setData(0, Qt.UserRole, node.entry)
                item.setIcon(0, icons.icon("terminal" if node.entry.key == "terminal" else "window"))
            else:
                item.setIcon(0, icons.icon("folder"))
                for e in node.children:
                    child = QtWidgets.QTreeWidgetItem([e.label])
                    child.setData(0, Qt.UserRole, e)
                    child.setIcon(0, icons.icon("window"))
                    item.addChild(child)
            self.tree.addTopLevelItem(item)

    def labels(self) -> list[str]:
        """Top-level labels without branch arrows (tests, accessibility)."""
        return [n.label for n in self.nodes]

    def entry(self, label: str) -> Entry | None:
        """The entry called ``label`` (top level or in a branch: ``IP/Addresses``)."""
        top, _, sub = label.partition("/")
        for n in self.nodes:
            if n.label == top:
                if not sub:
                    return n.entry
                for e in n.children:
                    if e.label == sub:
                        return e
        return None

    def entry_for_path(self, path: str) -> Entry | None:
        for n in self.nodes:
            for e in ([n.entry] if n.entry else []) + n.children:
                if path in e.paths or e.key == path:
                    return e
        return None

    def _clicked(self, item: QtWidgets.QTreeWidgetItem, _col: int = 0) -> None:
        entry = item.data(0, Qt.UserRole)
        if entry is None:
            item.setExpanded(not item.isExpanded())
            return
        self.chosen.emit(entry)

    def filter(self, text: str) -> None:
        """Show only entries whose label (or menu path) contains ``text``."""
        needle = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top.childCount():
                any_shown = False
                for j in range(top.childCount()):
                    child = top.child(j)
                    e: Entry = child.data(0, Qt.UserRole)
                    show = not needle or needle in e.label.lower() or any(needle in p for p in e.paths) \
                        or needle in top.text(0).lower()
                    child.setHidden(not show)
                    any_shown |= show
                top.setHidden(not any_shown)
                top.setExpanded(bool(needle) and any_shown)
            else:
                e = top.data(0, Qt.UserRole)
                show = not needle or needle in e.label.lower() or any(needle in p for p in e.paths)
                top.setHidden(not show)

    def _first_match(self) -> None:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top.isHidden():
                continue
            if top.childCount():
                for j in range(top.childCount()):
                    if not top.child(j).isHidden():
                        self._clicked(top.child(j))
                        return
            else:
                self._clicked(top)
                return
