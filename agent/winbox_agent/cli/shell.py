"""The RouterOS command language over a :class:`~winbox_agent.router.Router`.

Runs the reference documents' examples as written: menu lines followed by
commands, ``\\`` continuations, quotes, comments, ``/path/with/slashes`` and
``/path with spaces``, unambiguous abbreviations of menus, commands and
properties, item numbers from the last ``print``, names as item references and
``[ find ... ]`` expressions.
"""

import json
import os
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ..errors import RouterError
from ..schema import Menu
from . import printer
from ..masking import mask_secrets
from .export import export, menu_words
from .lexer import LexError, Word, logical_lines, split_commands

GLOBAL_COMMANDS = ("import", "export", "quit")
#: Commands of the root level (``/undo``); in a menu only when typed in full,
#: so that abbreviations there (``un`` for ``unset``) stay what they were.
ROOT_COMMANDS = ("undo", "redo")
#: How deeply ``where`` expressions may nest parentheses.
WHERE_DEPTH = 64
BASE_COMMANDS = ("print", "export", "find", "get")
PRINT_FLAGS = ("detail", "terse", "brief", "show-sensitive", "without-paging", "count-only",
               "as-value", "value-list", "follow", "follow-only", "interval")


class CliError(Exception):
    """A command failed; ``line`` is the script line it came from."""

    def __init__(self, message: str, line: int = 0, command: str = ""):
        super().__init__(message)
        self.message = message
        self.line = line
        self.command = command

    def __str__(self) -> str:
        where = "line %d: " % self.line if self.line else ""
        return where + self.message


class Node:
    """A menu level: a directory of children, a menu, or both."""

    def __init__(self, name: str, parent: Optional["Node"] = None):
        self.name = name
        self.parent = parent
        self.children: Dict[str, "Node"] = {}
        self.menu: Optional[Menu] = None

    @property
    def path(self) -> str:
        parts = []
        node: Optional[Node] = self
        while node is not None and node.parent is not None:
            parts.append(node.name)
            node = node.parent
        return "/" + "/".join(reversed(parts))


def build_tree(schema: Dict[str, Menu]) -> Node:
    root = Node("")
    for m in schema.values():
        node = root
        for w in m.words:
            node = node.children.setdefault(w, Node(w, node))
        node.menu = m
    return root


def menu_commands(m: Optional[Menu]) -> List[str]:
    if m is None:
        return ["export"]
    names = list(BASE_COMMANDS)
    if not m.readonly:
        if m.writable_props:
            names += ["set", "unset"]
        if m.can_add:
            names.append("add")
        if m.can_remove:
            names.append("remove")
        if m.prop("disabled") is not None or m.prop("enabled") is not None:
            names += ["enable", "disable"]
        if m.prop("comment") is not None:
            names.append("comment")
        if m.ordered:
            names.append("move")
    names += [c.name for c in m.commands]
    return names


def pick(word: str, candidates: Iterable[str], what: str) -> str:
    """The candidate ``word`` names, exactly or as an unambiguous prefix."""
    cands = list(dict.fromkeys(candidates))
    if word in cands:
        return word
    hits = [c for c in cands if c.startswith(word)]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise RouterError("unknown %s %s" % (what, word), "argument", word if what == "parameter" else None)
    raise RouterError("ambiguous %s %s (could be %s)" % (what, word, ", ".join(sorted(hits))), "argument")


def unnamed_arg(cmd: Any, given: Dict[str, str]) -> Optional[str]:
    """The argument a bare word fills for a command without an item: its first
    required argument not given yet (``/interface pppoe-client scan ether1``)."""
    for a in cmd.args:
        if a.required and a.name not in given:
            return a.name
    return None


class Interpreter:
    """Runs commands against a router and writes what they print.

    Attributes:
        cwd: the current menu level (``/ip address>``).
        numbers: per menu, the item ids of the last ``print`` in order.
        json_mode: ``print`` writes a JSON array instead of a table.
    """

    def __init__(self, router: Any, out: Callable[[str], None] = print, json_mode: bool = False,
                 session: str = "cli", base_dir: Optional[str] = None):
        self.router = router
        self.out = out
        self.json_mode = json_mode
        self.session = session
        self.base_dir = base_dir or os.getcwd()
        self.root = build_tree(router.schema)
        self.cwd = self.root
        self.numbers: Dict[str, List[str]] = {}
        self.stop_stream: Callable[[], bool] = lambda: False
        # set by a terminal (op cli ``streams``): stream commands are handed to it instead of run here
        self.on_stream: Optional[Callable[[str, str, Optional[str], Dict[str, str]], None]] = None
        # the interpreter of a MetaROUTER guest while its console is open
        self.guest: Optional["Interpreter"] = None

    # -- scripts -----------------------------------------------------------------
    def run_script(self, text: str) -> None:
        """Run every line; stop at the first error (raised as CliError with its line)."""
        with self.router.store.batch():
            for number, line in logical_lines(text):
                self.run_line(line, number)

    def run_line(self, line: str, number: int = 0) -> None:
        if is_console_escape(line):
            return self.leave_console()
        if self.guest is not None:
            self.guest.json_mode = self.json_mode
            try:
                return self.guest.run_line(line, number)
            except SystemExit:  # /quit in the guest comes back here
                return self.leave_console()
        if any("\udc80" <= c <= "\udcff" for c in line):
            raise CliError("the line is not valid UTF-8 text", number, mask_secrets(line))
        try:
            commands = split_commands(line)
        except LexError as exc:
            raise CliError(str(exc), number, mask_secrets(line)) from None
        for words in commands:
            try:
                self.execute(words)
            except RouterError as exc:
                raise CliError(mask_secrets(exc.message), number, mask_secrets(line)) from None
            except RecursionError:
                raise CliError("the command is nested too deeply", number, mask_secrets(line)) from None
            except CliError as exc:
                if not exc.line:
                    exc.line = number
                raise

    def prompt(self) -> str:
        if self.guest is not None:
            return self.guest.prompt()
        ident = self.router.view(self.router.menu("/system/identity"),
                                 self.router.store.items("/system/identity")[0])
        where = " ".join(w for w in self.cwd.path.split("/") if w)
        user = getattr(self.router, "user", None) or "admin"     # the login, as RouterOS shows it
        return "[%s@%s] %s> " % (user, ident.get("name"), "/" + where if where else "")

    # -- dispatch ------------------------------------------------------------------
    def execute(self, words: Sequence[Word]) -> None:
        node = self.cwd
        queue = list(words)
        first = queue[0]
        if first.key is None and not first.expr and not first.quoted and "/" in first.value:
            if first.value.startswith("/"):
                node = self.root
            parts = [p for p in first.value.split("/") if p]
            queue = [Word(p, None, p) for p in parts] + queue[1:]
        while queue:
            w = queue[0]
            if w.key is not None or w.expr or w.quoted:
                break
            if w.value == "..":
                node = node.parent or node
                queue.pop(0)
                continue
            children = list(node.children)
            commands = menu_commands(node.menu) + (list(GLOBAL_COMMANDS + ROOT_COMMANDS) if node is self.root
                                                   else ["import"] + [c for c in ROOT_COMMANDS if w.value == c])
            if "/" in w.value:  # a later word with slashes: /interface wireguard/wg-import
                queue[:1] = [Word(p, None, p) for p in w.value.split("/") if p]
                continue
            choice = pick(w.value, children + commands, "command or menu")
            if choice in node.children and not (choice in commands and choice == w.value):
                node = node.children[choice]
                queue.pop(0)
                continue
            break
        if not queue:
            self.cwd = node
            return
        word = queue.pop(0)
        if word.key is not None or word.expr or word.quoted:
            raise RouterError("expected a command, got %s" % word.text, "argument")
        commands = menu_commands(node.menu) + list(GLOBAL_COMMANDS)
        commands += [c for c in ROOT_COMMANDS if node is self.root or word.value == c]
        name = pick(word.value, commands, "command")
        if name in ROOT_COMMANDS:
            return self.cmd_undo_redo(name, queue)
        if name == "import":
            return self.cmd_import(queue)
        if name == "quit":
            raise SystemExit(0)
        if name == "export":
            return self.cmd_export(node, queue)
        m = node.menu
        if m is None:
            raise RouterError("%s is not a menu" % node.path, "missing")
        handler = getattr(self, "cmd_" + name.replace("-", "_"), None)
        if handler is not None and name in ("print", "find", "get", "set", "unset", "add", "remove",
                                            "enable", "disable", "comment", "move"):
            return handler(m, queue)
        return self.cmd_menu_command(m, name, queue)

    # -- argument helpers -------------------------------------------------------------
    def _prop_name(self, m: Menu, word: str, writable: bool = True) -> str:
        props = [p.name for p in (m.writable_props if writable else m.props)]
        if writable and word not in props and m.prop(word) is not None:
            raise RouterError("%s is read-only" % word, "denied", word)
        return pick(word, props, "parameter")

    def _values(self, m: Menu, words: Sequence[Word], extra: Sequence[str] = ()) -> Tuple[Dict[str, str], Dict[str, str]]:
        """Split key=value words into (property values, extra arguments)."""
        values: Dict[str, str] = {}
        others: Dict[str, str] = {}
        for w in words:
            if w.key is None:
                raise RouterError("unexpected word %s" % w.text, "argument")
            if w.key in extra:
                others[w.key] = w.value
                continue
            name = self._prop_name(m, w.key)
            values[name] = self._expr_value(w)
        return values, others

    def _expr_value(self, w: Word) -> str:
        if w.expr:
            raise RouterError("expressions are not supported as values (%s)" % w.text, "argument")
        return w.value

    def _listing(self, m: Menu) -> List[Dict[str, Any]]:
        return self.router.rows(m.path)

    def _items(self, m: Menu, w: Word) -> List[str]:
        """Item ids named by one word: numbers, names, ids or [ find ... ]."""
        if w.expr:
            return self._find(m, w.value)
        ids = []
        for part in [p for p in w.value.split(",") if p]:
            if part.isdigit():
                numbers = self.numbers.get(m.path)
                if numbers is None:
                    numbers = [r[".id"] for r in self._listing(m)]
                n = int(part)
                if n >= len(numbers):
                    raise RouterError("no such item (%s)" % part, "missing")
                ids.append(numbers[n])
            else:
                ids.append(self.router.find(m.path, part))
        return ids

    def _one(self, m: Menu, w: Word) -> str:
        """The first item one word names (an empty [ find ] names none: an error)."""
        ids = self._items(m, w)
        if not ids:
            raise RouterError("no such item (%s)" % (w.text or w.value), "missing")
        return ids[0]

    def _find(self, m: Menu, text: str) -> List[str]:
        cmds = split_commands(text)
        if not cmds or pick(cmds[0][0].value, ["find"], "command") != "find":
            raise RouterError("only [ find ... ] expressions are supported", "argument")
        words = cmds[0][1:]
        if words and words[0].key is None and words[0].value == "where":
            words = words[1:]
        return [r[".id"] for r in self._filter(m, self._listing(m), words)]

    def _filter(self, m: Menu, rows: List[Dict[str, Any]], words: Sequence[Word]) -> List[Dict[str, Any]]:
        if not words:
            return list(rows)
        pred = WhereParser(self, m, list(words)).parse()
        out = []
        for r in rows:
            f = self.router.format_row(m, r, sensitive=True)
            if pred(f, r):
                out.append(r)
        return out

    # -- commands -------------------------------------------------------------------
    def cmd_print(self, m: Menu, words: Sequence[Word]) -> None:
        opts = set()
        proplist: Optional[List[str]] = None
        where: List[Word] = []
        rest = list(words)
        while rest:
            w = rest.pop(0)
            if w.key is None and not w.expr and w.value == "where":
                where = rest
                break
            if w.key == "interval":  # re-printing every interval: here the listing is printed once
                continue
            if w.key in ("proplist", ".proplist"):
                proplist = [self._prop_name(m, p, writable=False) for p in w.value.split(",") if p]
                continue
            if w.key is None and not w.expr:
                opts.add(pick(w.value, PRINT_FLAGS, "argument"))
                continue
            raise RouterError("unexpected argument %s" % w.text, "argument")
        rows = self._listing(m)
        rows = self._filter(m, rows, where)
        sensitive = "show-sensitive" in opts
        if sensitive:
            self._may_see_secrets("show-sensitive")
        formatted = [self.router.format_row(m, r, sensitive, proplist) for r in rows]
        if not m.single:
            self.numbers[m.path] = [r[".id"] for r in rows]
        if "count-only" in opts:
            self.out(str(len(rows)))
            return
        names = proplist or [p.name for p in m.props if (sensitive or not p.secret)]
        if self.json_mode or "as-value" in opts:
            clean = [{k: v for k, v in f.items() if k != ".flags"} for f in formatted]
            self.out(json.dumps(clean))
            return
        if m.single:
            self.out(printer.settings(formatted[0] if formatted else {}, names))
        elif "detail" in opts or "terse" in opts:
            self.out(printer.detail(m, formatted, names))
        else:
            cols = proplist or m.columns or [p.name for p in m.props[:5]]
            self.out(printer.table(m, formatted, cols))

    def cmd_find(self, m: Menu, words: Sequence[Word]) -> None:
        words = list(words)
        if words and words[0].value == "where" and words[0].key is None:
            words = words[1:]
        ids = [r[".id"] for r in self._filter(m, self._listing(m), words)]
        self.out(";".join(ids))

    def cmd_get(self, m: Menu, words: Sequence[Word]) -> None:
        words = list(words)
        if m.single:
            item = self.router.single_id(m)
        else:
            if not words:
                raise RouterError("get needs an item", "argument")
            item = self._one(m, words.pop(0))
        name = self._prop_name(m, words[0].value, writable=False) if words else None
        # a secret is shown only when asked for by name
        secret = name is not None and m.prop(name).secret
        if secret:
            self._may_see_secrets("get %s" % name, name)
        row = self.router.format_row(m, self.router.row(m.path, item), sensitive=secret)
        if name is not None:
            self.out(row.get(name, ""))
        else:
            self.out(json.dumps(row) if self.json_mode else printer.settings(row, [p.name for p in m.props]))

    def _split_items(self, m: Menu, words: Sequence[Word]) -> Tuple[List[str], List[Word]]:
        ids: List[str] = []
        rest: List[Word] = []
        for w in words:
            if w.key is None and (w.expr or not rest):
                if w.key is None and w.value == "numbers":
                    continue
                ids.extend(self._items(m, w))
            elif w.key == "numbers":
                ids.extend(self._items(m, Word(w.text, None, w.value, expr=w.expr)))
            else:
                rest.append(w)
        return ids, rest

    def cmd_set(self, m: Menu, words: Sequence[Word]) -> None:
        if m.single:
            ids, rest = [], list(words)
        else:
            ids, rest = self._split_items(m, words)
            if not ids:
                raise RouterError("set needs an item (a number, a name or [ find ... ])", "argument")
        values, _ = self._values(m, rest)
        self.router.set(m.path, ids, values, session=self.session)

    def cmd_unset(self, m: Menu, words: Sequence[Word]) -> None:
        words = list(words)
        ids: List[str] = []
        if not m.single:
            if not words:
                raise RouterError("unset needs an item", "argument")
            ids = self._items(m, words.pop(0))
        names = []
        for w in words:
            raw = w.value if w.key in (None, "value-name") else w.key
            names.extend(self._prop_name(m, n) for n in raw.split(",") if n)
        if not names:
            raise RouterError("unset needs a property name", "argument")
        self.router.unset(m.path, ids, names, session=self.session)

    def cmd_add(self, m: Menu, words: Sequence[Word]) -> None:
        values, extra = self._values(m, words, extra=("copy-from", "place-before"))
        copy_from = self._one(m, Word("", None, extra["copy-from"])) if "copy-from" in extra else None
        before = None
        if "place-before" in extra:
            where = extra["place-before"]
            # a number at or past the end of the last print (0 or 1 in an empty
            # list, as the documents' examples written for a default firewall
            # use) places at the end
            numbers = self.numbers.get(m.path) if where.isdigit() else None
            if numbers is None and where.isdigit():
                numbers = self._listing(m)
            if not (where.isdigit() and int(where) >= len(numbers or ())):
                before = self._one(m, Word("", None, where))
        new_id = self.router.add(m.path, values, session=self.session, place_before=before, copy_from=copy_from)
        if self.json_mode:
            self.out(json.dumps({"ret": new_id}))

    def _ids_only(self, m: Menu, words: Sequence[Word], what: str) -> List[str]:
        ids, rest = self._split_items(m, words)
        if rest:
            raise RouterError("unexpected argument %s" % rest[0].text, "argument")
        if not ids:
            raise RouterError("%s needs an item" % what, "argument")
        return ids

    def cmd_remove(self, m: Menu, words: Sequence[Word]) -> None:
        self.router.remove(m.path, self._ids_only(m, words, "remove"), session=self.session)

    def cmd_enable(self, m: Menu, words: Sequence[Word]) -> None:
        ids = [self.router.single_id(m)] if m.single else self._ids_only(m, words, "enable")
        self.router.enable(m.path, ids, session=self.session)

    def cmd_disable(self, m: Menu, words: Sequence[Word]) -> None:
        ids = [self.router.single_id(m)] if m.single else self._ids_only(m, words, "disable")
        self.router.disable(m.path, ids, session=self.session)

    def cmd_comment(self, m: Menu, words: Sequence[Word]) -> None:
        ids, rest = self._split_items(m, words)
        text = None
        for w in rest:
            if w.key == "comment" or w.key is None:
                text = w.value
            else:
                raise RouterError("unexpected argument %s" % w.text, "argument")
        if text is None:
            raise RouterError("comment needs comment=", "argument")
        self.router.comment(m.path, ids, text, session=self.session)

    def cmd_move(self, m: Menu, words: Sequence[Word]) -> None:
        words = list(words)
        dest = None
        for w in list(words):
            if w.key == "destination":
                dest = self._one(m, Word("", None, w.value))
                words.remove(w)
        if not words:
            raise RouterError("move needs an item", "argument")
        ids = self._items(m, words.pop(0))
        if words and dest is None:
            dest = self._one(m, words.pop(0))
        self.router.move(m.path, ids, dest, session=self.session)

    def cmd_export(self, node: Node, words: Sequence[Word]) -> None:
        opts = set()
        fname = None
        for w in words:
            if w.key == "file":
                fname = w.value
            elif w.key is None:
                opts.add(pick(w.value, ("show-sensitive", "verbose", "terse", "compact", "hide-sensitive"),
                              "argument"))
            else:
                raise RouterError("unknown parameter %s" % w.key, "argument", w.key)
        path = None if node is self.root else node.path
        if "show-sensitive" in opts:
            self._may_see_secrets("show-sensitive")
        text = export(self.router, path, sensitive="show-sensitive" in opts, verbose="verbose" in opts)
        if fname:
            if not fname.endswith(".rsc"):
                fname += ".rsc"
            # only its owner may read it: it may hold secrets
            fd = os.open(self._file(fname, "file"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            self.out(text.rstrip("\n"))

    def _may_see_secrets(self, what: str, prop: Optional[str] = None) -> None:
        """Refuse to show secrets to a login without the sensitive policy."""
        rights = getattr(self.router, "rights", None)
        if rights is not None:
            rights.check_sensitive(what, prop)

    def cmd_undo_redo(self, name: str, words: Sequence[Word]) -> None:
        """``/undo`` and ``/redo``: take back the latest change, or do it again."""
        if words:
            raise RouterError("unexpected argument %s" % words[0].text, "argument")
        fn = self.router.undo if name == "undo" else self.router.redo
        rev = fn(session=self.session)
        if self.json_mode:
            self.out(json.dumps({"revision": rev}))

    def _file(self, name: str, prop: str = "file-name") -> str:
        if "\x00" in name or not name.strip():
            raise RouterError("%s: %r is not a file name" % (prop, name), "argument", prop)
        if os.path.isabs(name):
            return name
        return os.path.join(self.base_dir, name)

    def cmd_import(self, words: Sequence[Word]) -> None:
        fname = None
        for w in words:
            if w.key is not None and pick(w.key, ("file-name", "verbose", "dry-run"), "parameter") == "file-name":
                fname = w.value
            elif w.key is None and fname is None:
                fname = w.value
        if not fname:
            raise RouterError("import needs file-name=", "argument", "file-name")
        try:
            with open(self._file(fname), encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise RouterError("file-name: cannot read %s (%s)" % (fname, exc.strerror), "argument", "file-name") from None
        except UnicodeDecodeError:
            raise RouterError("file-name: %s is not a UTF-8 text file" % fname, "argument", "file-name") from None
        saved = self.cwd
        try:
            self.cwd = self.root
            self.run_script(text)
        except CliError as exc:
            raise CliError("%s: line %d: %s" % (fname, exc.line, exc.message)) from None
        finally:
            self.cwd = saved

    def cmd_menu_command(self, m: Menu, name: str, words: Sequence[Word]) -> None:
        cmd = m.command(name)
        if cmd is None:
            raise RouterError("no such command %s" % name, "missing")
        words = list(words)
        item = None
        args: Dict[str, str] = {}
        arg_names = [a.name for a in cmd.args]
        for w in words:
            if w.key is None and not w.quoted and not w.expr and w.value in arg_names:
                args[w.value] = "yes"
            elif w.key is None and cmd.item and item is None:
                item = self._one(m, w) if (w.expr or not self._is_free_text(m, cmd)) else w.value
            elif w.key is None and not cmd.item and unnamed_arg(cmd, args):
                args[unnamed_arg(cmd, args)] = w.value
            elif w.key is not None:
                if w.key in ("numbers", "interface") and cmd.item and item is None and w.key not in arg_names:
                    item = self._one(m, Word(w.text, None, w.value))
                    continue
                args[pick(w.key, arg_names, "parameter")] = w.value
            else:
                raise RouterError("unexpected argument %s" % w.text, "argument")
        once = args.get("once") == "yes"
        if cmd.stream and not once and not self.json_mode and self.on_stream is not None:
            return self.on_stream(m.path, name, item, dict(args))
        rows = self.router.command(m.path, name, item, args)
        if getattr(rows, "console_router", None) is not None:
            return self.enter_console(rows)
        if cmd.stream and not once and self.json_mode:
            once = True
        self._show_rows(rows, once, cmd.stream, args)

    def _is_free_text(self, m: Menu, cmd: Any) -> bool:
        return False

    def _show_rows(self, rows: Any, once: bool, stream: bool, args: Dict[str, str]) -> None:
        """Print a command's rows; a stream's iterator never waits, so samples
        are paced here (``interval``, default 1s) and bounded by ``duration``."""
        from ..types import parse_duration
        interval = float(parse_duration(args.get("interval", "1")) or 1) if stream else 0.0
        duration = parse_duration(args["duration"]) if "duration" in args else None
        started = time.monotonic()
        collected = []
        last = None
        it = iter(rows)
        try:
            wait = 0.0
            while True:
                if wait:
                    time.sleep(wait)         # wait first, then take the sample that is current
                wait = interval if stream else 0.0
                try:
                    row = next(it)
                except StopIteration:
                    break
                if duration is not None and time.monotonic() - started > duration:
                    break
                if row is None:              # the driver has no answer yet: look again soon
                    wait = min(interval, 0.1) or 0.1
                    continue
                if self.json_mode:
                    collected.append(row)
                elif row != last:            # an unchanged sample says nothing new
                    keys = [k for k in row if not k.startswith(".")]
                    self.out(printer.settings(row, keys))
                    if stream and not once:
                        self.out("")
                last = row
                if once or self.stop_stream():
                    break
        finally:
            close = getattr(rows, "close", None)
            if close:
                close()
        if self.json_mode:
            self.out(json.dumps(collected))

    # -- MetaROUTER console ------------------------------------------------------------
    def enter_console(self, session: Any) -> None:
        """Talk to a guest router (``/metarouter console``): its ``command``
        runs there at once, or every following line goes there until /quit."""
        guest = Interpreter(session.console_router, out=self.out, json_mode=self.json_mode,
                            session=self.session, base_dir=self.base_dir)
        if not self.json_mode:
            for line in session.banner:
                self.out(line)
        if session.command is None:
            self.guest = guest
            return
        try:
            guest.run_script(session.command)
        except SystemExit:
            pass
        except CliError as exc:
            raise RouterError("in %s: %s" % (session.name, exc), "argument") from None

    def leave_console(self) -> None:
        if self.guest is not None:
            self.guest = None
            if not self.json_mode:
                self.out("Welcome back!")


def is_console_escape(line: str) -> bool:
    """Ctrl-A then Q: how a MetaROUTER console is left (as a line: ``\\x01q``)."""
    return line.strip().lower() in ("\x01q", "\x01\x01q")


class WhereParser:
    """``where`` / ``find`` expressions: ``name=x``, ``name!=x``, ``name~"re"``,
    bare flags (``disabled``, ``running``, ``dynamic``), ``!``/``not``, ``and``,
    ``or`` and adjacent terms meaning ``and``."""

    def __init__(self, interp: Interpreter, m: Menu, words: List[Word]):
        self.interp = interp
        self.m = m
        self.words = self._parens(words)
        self.depth = 0

    @staticmethod
    def _parens(words: List[Word]) -> List[Word]:
        """Parentheses as words of their own: the lexer gives ``(name=a`` and
        ``b)`` as one word each.  Parentheses balanced inside a value stay."""
        out: List[Word] = []
        for w in words:
            if w.expr or (w.key is None and w.quoted):
                out.append(w)
                continue
            head = w.key if w.key is not None else w.value
            while len(head) > 1 and head.startswith("("):
                out.append(Word("(", None, "("))
                head = head[1:]
            tail = w.value if w.key is not None else head
            closing = 0
            if not (w.key is not None and w.quoted):
                while len(tail) > 1 and tail.endswith(")") and tail.count(")") > tail.count("("):
                    tail, closing = tail[:-1], closing + 1
            if w.key is None:
                out.append(Word(tail, None, tail))
            else:
                out.append(Word("%s=%s" % (head, tail), head, tail, w.quoted, w.expr))
            out.extend(Word(")", None, ")") for _ in range(closing))
        return out

    def parse(self) -> Callable[[Dict[str, str], Dict[str, Any]], bool]:
        pred = self._or()
        if self.words:
            raise RouterError("unexpected word %s in where" % self.words[0].text, "argument")
        return pred

    def _peek(self) -> Optional[str]:
        if not self.words:
            return None
        w = self.words[0]
        return w.value if w.key is None and not w.quoted else None

    def _or(self):
        terms = [self._and()]
        while self._peek() in ("or", "||"):
            self.words.pop(0)
            terms.append(self._and())
        return terms[0] if len(terms) == 1 else (lambda f, r: any(t(f, r) for t in terms))

    def _and(self):
        terms = [self._not()]
        while self.words and self._peek() not in ("or", "||", ")"):
            if self._peek() in ("and", "&&"):
                self.words.pop(0)
            terms.append(self._not())
        return terms[0] if len(terms) == 1 else (lambda f, r: all(t(f, r) for t in terms))

    def _not(self):
        negate = False
        while self._peek() in ("not", "!"):
            self.words.pop(0)
            negate = not negate
        inner = self._term()
        return (lambda f, r: not inner(f, r)) if negate else inner

    def _term(self):
        if not self.words:
            raise RouterError("incomplete where expression", "argument")
        w = self.words.pop(0)
        if w.key is None and w.value == "(":
            self.depth += 1
            if self.depth > WHERE_DEPTH:
                raise RouterError("where expression nested more than %d deep" % WHERE_DEPTH, "argument")
            inner = self._or()
            if self._peek() != ")":
                raise RouterError("missing ) in where expression", "argument")
            self.words.pop(0)
            self.depth -= 1
            return inner
        if w.key is not None:
            key, op = w.key, "="
            if key.endswith("!"):
                key, op = key[:-1], "!="
            elif key.endswith("<") or key.endswith(">"):
                key, op = key[:-1], key[-1] + "="
            return self._compare(key, op, w.value)
        text = w.value
        for op in ("~", "<", ">"):
            if op in text and not text.startswith(op):
                key, _, value = text.partition(op)
                if value.startswith('"') and value.endswith('"'):
                    value = value[1:-1]
                return self._compare(key, op, value)
        neg = text.startswith("!")
        name = text[1:] if neg else text
        flag = {f.meaning: f for f in self.m.flags}
        if name in flag:
            test = flag[name].test
            return lambda f, r: test(r) != neg
        prop = self.interp._prop_name(self.m, name, writable=False)
        return lambda f, r: (f.get(prop) in ("yes", "true")) != neg

    def _compare(self, key: str, op: str, value: str):
        import re
        if key in (".id", "id"):
            prop = ".id"
        else:
            prop = self.interp._prop_name(self.m, key, writable=False)
        if op == "~":
            try:
                rx = re.compile(value)
            except re.error as exc:
                raise RouterError("bad regular expression %s (%s)" % (value, exc), "argument") from None
            return lambda f, r: bool(rx.search(f.get(prop, "")))
        if op == "=":
            return lambda f, r: f.get(prop, "") == value
        if op == "!=":
            return lambda f, r: f.get(prop, "") != value

        def num(v: str) -> float:
            try:
                return float(v)
            except ValueError:
                return float("nan")
        if op in ("<", "<="):
            return lambda f, r: num(f.get(prop, "")) < num(value)
        return lambda f, r: num(f.get(prop, "")) > num(value)
