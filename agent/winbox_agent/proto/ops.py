"""The operations of the protocol, mirroring the RouterOS API.

Each entry of :data:`OPS` is ``(handler, streaming)``.  A simple handler
``(conn, msg) -> result`` answers with one ``done``; a streaming one
``async (conn, out, msg) -> result`` sends frames through ``out`` (flow
controlled) and ends with ``done``.  Values in and out are strings as RouterOS
prints them; errors are RouterErrors, sent as ``trap`` frames.
"""

import time
from typing import Any, Dict, List, Optional

from ..errors import RouterError
from ..types import parse_duration
from .feeds import send_rows
from .messages import get_bool, get_number, get_str, get_str_dict, get_str_list
from .monitors import printed
from .safemode import OPS as SAFE_MODE_OPS
from .terminal import OPS as TERMINAL_OPS


def _router(conn: Any) -> Any:
    """The Router as the connection's login sees it (its rights checked,
    safe mode asked: proto/logins.py), or the Router itself before admission."""
    return conn.router if getattr(conn, "router", None) is not None else conn.hub.router


def _sensitive(conn: Any, msg: Dict[str, Any], what: str) -> bool:
    """``sensitive`` asked for: refused without the ``sensitive`` policy."""
    wanted = get_bool(msg, "sensitive")
    rights = getattr(conn, "rights", None)
    if wanted and rights is not None:
        rights.check_sensitive(what, "sensitive")
    return wanted


def _ids(conn: Any, path: str, msg: Dict[str, Any], required: bool = True) -> List[str]:
    """Item ids from ``ids`` (ids or names); none for a settings menu."""
    router = _router(conn)
    m = router.menu(path)
    words = get_str_list(msg, "ids", [])
    if m.single:
        return []
    if not words and required:
        raise RouterError("ids: give the ids or names of the items", "argument", "ids")
    return [router.find(path, w) for w in words]


# -- reading ---------------------------------------------------------------------------

def op_describe(conn: Any, msg: Dict[str, Any]) -> Dict[str, Any]:
    router = _router(conn)
    path = get_str(msg, "path", None)
    if path is not None:
        return {"menus": {path: router.menu(path).describe()}}
    return {"menus": {p: m.describe() for p, m in router.schema.items()}}


def op_get(conn: Any, msg: Dict[str, Any]) -> Dict[str, str]:
    router = _router(conn)
    path = get_str(msg, "path")
    m = router.menu(path)
    word = get_str(msg, "item", None) or get_str(msg, ".id", None)
    if m.single and not word:
        item = router.single_id(m)
    elif not word:
        raise RouterError("item: give the id or name of the item", "argument", "item")
    else:
        item = router.find(path, word)
    return router.format_row(m, router.row(path, item), get_bool(msg, "sensitive"))


async def op_print(conn: Any, out: Any, msg: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    path = get_str(msg, "path")
    proplist = get_str_list(msg, "proplist", None)
    where = get_str_dict(msg, "where", allow_lists=True)
    sensitive = _sensitive(conn, msg, "print sensitive")
    listing = conn.hub.listing(path, proplist, sensitive, where)
    if get_bool(msg, "follow") or get_bool(msg, "follow-only"):
        interval = get_number(msg, "interval", None, 0.05, 86400)
        await conn.hub.follow(out, listing, interval, get_bool(msg, "follow-only"))
        return None
    count = await send_rows(out, listing.columns, listing.rows(), conn.hub.options)
    return {"count": count}


# -- changing -----------------------------------------------------------------------------

def op_add(conn: Any, msg: Dict[str, Any]) -> str:
    router = _router(conn)
    path = get_str(msg, "path")
    values = get_str_dict(msg, "values")
    before = get_str(msg, "place-before", None)
    copy = get_str(msg, "copy-from", None)
    if copy is not None:
        copy = router.find(path, copy)
    return router.add(path, values, session=conn.name, place_before=before, copy_from=copy)


def op_set(conn: Any, msg: Dict[str, Any]) -> Dict[str, int]:
    """``expect``: the values the desktop's form was loaded with; refused
    as a conflict if the item changed since (conflicts.py)."""
    path = get_str(msg, "path")
    expect = get_str_dict(msg, "expect") or None
    rev = _router(conn).set(path, _ids(conn, path, msg), get_str_dict(msg, "values"), session=conn.name,
                            expect=expect)
    return {"revision": rev}


def op_unset(conn: Any, msg: Dict[str, Any]) -> Dict[str, int]:
    path = get_str(msg, "path")
    names = get_str_list(msg, "names")
    expect = get_str_dict(msg, "expect") or None
    rev = _router(conn).unset(path, _ids(conn, path, msg), names, session=conn.name, expect=expect)
    return {"revision": rev}


def op_remove(conn: Any, msg: Dict[str, Any]) -> Dict[str, int]:
    path = get_str(msg, "path")
    return {"revision": _router(conn).remove(path, _ids(conn, path, msg), session=conn.name)}


def op_enable(conn: Any, msg: Dict[str, Any]) -> Dict[str, int]:
    path = get_str(msg, "path")
    return {"revision": _router(conn).enable(path, _ids(conn, path, msg), session=conn.name)}


def op_disable(conn: Any, msg: Dict[str, Any]) -> Dict[str, int]:
    path = get_str(msg, "path")
    return {"revision": _router(conn).disable(path, _ids(conn, path, msg), session=conn.name)}


def op_comment(conn: Any, msg: Dict[str, Any]) -> Dict[str, int]:
    path = get_str(msg, "path")
    text = get_str(msg, "comment")
    return {"revision": _router(conn).comment(path, _ids(conn, path, msg), text, session=conn.name)}


def op_move(conn: Any, msg: Dict[str, Any]) -> Dict[str, int]:
    router = _router(conn)
    path = get_str(msg, "path")
    dest = get_str(msg, "destination", None)
    if dest is not None:
        dest = router.find(path, dest)
    return {"revision": router.move(path, _ids(conn, path, msg), dest, session=conn.name)}


# -- commands -------------------------------------------------------------------------------

async def op_command(conn: Any, out: Any, msg: Dict[str, Any]) -> None:
    """A menu command.  Stream commands (``monitor``) are shared between
    connections and sampled every ``interval``; ``once`` gives one sample,
    ``duration`` bounds the stream; other commands send all their rows."""
    router = _router(conn)
    path = get_str(msg, "path")
    name = get_str(msg, "command")
    args = get_str_dict(msg, "args")
    word = get_str(msg, "item", None)
    m = router.menu(path)
    cmd = m.command(name)
    if cmd is None:
        raise RouterError("no such command %s in %s" % (name, path), "missing", "command")
    item = router.find(path, word) if word else None
    rights = getattr(conn, "rights", None)
    if rights is not None:
        rights.check_command(path, name)
    interval = get_number(msg, "interval", 1.0, 0.05, 86400) or 1.0
    if "interval" in args:
        parsed = parse_duration(args["interval"])
        if parsed is None or parsed <= 0:
            raise RouterError("interval: %s is not a time interval" % args["interval"], "argument", "interval")
        interval = max(0.05, float(parsed))
    if args.get("once") == "":
        args["once"] = "yes"          # ``once`` given as a bare flag
    once = args.get("once") in ("yes", "true")
    deadline = None
    if "duration" in args:
        secs = parse_duration(args["duration"])
        if secs is None:
            raise RouterError("duration: %s is not a time interval" % args["duration"], "argument", "duration")
        deadline = time.monotonic() + secs
    if cmd.stream and not once:
        await conn.hub.watch(out, path, name, item, args, interval, deadline)
        return
    rows = router.command(path, name, item, args)
    out.on_stop.append(getattr(rows, "close", lambda: None))
    batch: List[Dict[str, str]] = []
    for row in rows:
        batch.append(printed(row))
        if once or len(batch) >= conn.hub.options.batch_rows:
            await out.send_data({"op": "data", "rows": batch})
            batch = []
        if once:
            break
    if batch:
        await out.send_data({"op": "data", "rows": batch})


# -- scripts ------------------------------------------------------------------------------------

def op_export(conn: Any, msg: Dict[str, Any]) -> str:
    from ..cli.export import export
    router = _router(conn)
    path = get_str(msg, "path", None)
    if path is not None and path not in router.schema:
        _known_prefix(router, path)
    return export(router, path, sensitive=_sensitive(conn, msg, "export show-sensitive"),
                  verbose=get_bool(msg, "verbose"))


def _known_prefix(router: Any, path: str) -> None:
    prefix = path.rstrip("/") + "/"
    if not any(p.startswith(prefix) for p in router.schema):
        raise RouterError("no such menu %s" % path, "missing", "path")


def _interpreter(conn: Any) -> Any:
    if conn.interp is None:
        from ..cli.shell import Interpreter
        router = _router(conn)
        conn.interp = Interpreter(router, out=lambda text: None, session=conn.name,
                                  base_dir=router.state_dir or None)
        # a stream command prints one sample here; the ``command`` op streams
        conn.interp.stop_stream = lambda: True
    return conn.interp


def _script_error(exc: Any) -> RouterError:
    cause = exc.__context__
    category = cause.category if isinstance(cause, RouterError) else "argument"
    prop = cause.prop if isinstance(cause, RouterError) else None
    return RouterError(str(exc), category, prop)


def op_import(conn: Any, msg: Dict[str, Any]) -> None:
    from ..cli.shell import CliError, Interpreter
    router = _router(conn)
    text = get_str(msg, "script")
    interp = Interpreter(router, out=lambda line: None, session=conn.name, base_dir=router.state_dir or None)
    interp.stop_stream = lambda: True
    try:
        interp.run_script(text)
    except CliError as exc:
        raise _script_error(exc) from None
    except SystemExit:
        pass
    return None


def op_cli(conn: Any, msg: Dict[str, Any]) -> Dict[str, Any]:
    from ..cli.shell import CliError
    interp = _interpreter(conn)
    line = get_str(msg, "line")
    lines: List[str] = []
    interp.out = lines.append
    interp.json_mode = bool(msg.get("json"))
    quit_ = False
    streams: List[Dict[str, Any]] = []
    if get_bool(msg, "streams"):        # an interactive terminal runs stream commands itself (op command)
        interp.on_stream = lambda path, name, item, args: streams.append(
            {"path": path, "command": name, "item": item, "args": args})
    try:
        interp.run_line(line)
    except CliError as exc:
        raise _script_error(exc) from None
    except SystemExit:
        quit_ = True
    finally:
        interp.out = lambda text: None
        interp.on_stream = None
    result: Dict[str, Any] = {"output": "\n".join(lines), "path": interp.cwd.path}
    if quit_:
        result["quit"] = True
    if streams:
        result["stream"] = streams[0]
    if get_bool(msg, "prompt"):
        result["prompt"] = interp.prompt()
    return result


def op_stats(conn: Any, msg: Dict[str, Any]) -> Dict[str, Any]:
    return conn.hub.stats()


def op_undo(conn: Any, msg: Dict[str, Any]) -> Dict[str, int]:
    """Undo the latest step (``mine``: of this session; ``revision``: that step)."""
    rev = msg.get("revision")
    if rev is not None and (isinstance(rev, bool) or not isinstance(rev, int)):
        raise RouterError("revision: must be a revision number", "protocol", "revision")
    return {"revision": _router(conn).undo(session=conn.name, revision=rev, mine=get_bool(msg, "mine"))}


def op_redo(conn: Any, msg: Dict[str, Any]) -> Dict[str, int]:
    """Do again the step undone last (``mine``: of this session)."""
    return {"revision": _router(conn).redo(session=conn.name, mine=get_bool(msg, "mine"))}


OPS = {
    "describe": (op_describe, False),
    "print": (op_print, True),
    "get": (op_get, False),
    "add": (op_add, False),
    "set": (op_set, False),
    "unset": (op_unset, False),
    "remove": (op_remove, False),
    "enable": (op_enable, False),
    "disable": (op_disable, False),
    "comment": (op_comment, False),
    "move": (op_move, False),
    "command": (op_command, True),
    "export": (op_export, False),
    "import": (op_import, False),
    "cli": (op_cli, False),
    "stats": (op_stats, False),
    "undo": (op_undo, False),
    "redo": (op_redo, False),
}

OPS.update(SAFE_MODE_OPS)          # safe-mode, check-impact
OPS.update(TERMINAL_OPS)           # terminal, terminal-input, terminal-resize
