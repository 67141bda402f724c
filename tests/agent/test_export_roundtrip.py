"""``export`` round-trips: what it writes, run on a factory device, gives the same configuration.

Items are generated from the schema alone (a value for every writable property,
derived from its type), so every menu declared later is covered without
touching this file.  :func:`fill` is also used by test_router.py.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from winbox_agent import menus  # noqa: E402
from winbox_agent.cli.export import menu_words  # noqa: E402
from winbox_agent.cli.lexer import quote  # noqa: E402
from winbox_agent.cli.shell import Interpreter  # noqa: E402
from winbox_agent.errors import RouterError, ValueProblem  # noqa: E402
from winbox_agent.router import Router  # noqa: E402
from winbox_agent.schema import REGISTRY, Menu, Prop  # noqa: E402
from winbox_agent.types import (AddressRanges, Bool, Duration, Enum, Flags, Host, Int, Interface, IPAny,  # noqa: E402
                                IPv4, IPv6, Key, ListOf, Mac, Name, Negatable, OneOf, Ports, Prefix, Ref, Str,
                                ValueType)


# --- values from types ---------------------------------------------------------------


def _ref_candidates(router: Router, t: Ref, own: Optional[str]) -> List[str]:
    """Names of existing items the reference may point at, newest made by us first."""
    menus_ = router.interface_menus() if t.target == "interface" else [REGISTRY.get(t.target)]
    out = []
    for m in menus_:
        if m is None:
            continue
        for it in router.rows(m.path, runtime=False):
            if it.get(".dynamic") or it[".id"] == own:
                continue
            out.append((not it.get(".factory"), router.name_of(it[".id"], it, m)))
    # generated items first (they exercise references between generated items),
    # then the factory ones
    return [name for _, name in sorted(out, key=lambda x: not x[0])] + list(t.words)


def candidates(router: Router, t: ValueType, n: int, own: Optional[str] = None) -> List[str]:
    """Texts a person might type for a value of ``t``; the caller keeps the first that parses."""
    if isinstance(t, Negatable):
        return candidates(router, t.inner, n, own)
    if isinstance(t, OneOf):
        return [c for inner in t.types for c in candidates(router, inner, n, own)]
    if isinstance(t, ListOf):
        return candidates(router, t.inner, n, own)
    if isinstance(t, Ref):
        return _ref_candidates(router, t, own)
    if isinstance(t, Bool):
        return ["yes", "no"]
    if isinstance(t, Int):
        lo = t.lo if t.lo is not None else 0
        hi = t.hi if t.hi is not None else lo + 1000
        mid = lo + (hi - lo) // 3
        return [str(v) for v in (mid, mid + 1, lo, hi) if lo <= v <= hi] + list(t.words)
    if isinstance(t, Enum):
        return list(t.choices)
    if isinstance(t, Flags):
        return list(t.choices[:1]) + list(t.choices[1:2]) + [",".join(t.choices[:2])]
    if isinstance(t, Duration):
        hi = t.hi if t.hi is not None else 10**6
        values = [v for v in (max(t.lo, 65), max(t.lo, 3600 + 5 * n), t.lo, hi) if t.lo <= v <= hi]
        return ["%ds" % v for v in values] + list(t.words)
    if isinstance(t, Interface):
        return ["10.%d.%d.1/24" % (100 + n // 250, n % 250)] if t.version == 4 else ["2001:db8:%x::1/64" % n]
    if isinstance(t, Prefix):
        v4, v6 = "10.%d.%d.0/24" % (200 + n // 250, n % 250), "2001:db8:%x::/48" % (0x100 + n)
        return [v6, v4] if t.version == 6 else [v4, v6]
    if isinstance(t, IPv6):
        return ["2001:db8::%x" % (n + 1)]
    if isinstance(t, (IPv4, IPAny, Host)):
        return ["192.0.2.%d" % (n % 250 + 1)]
    if isinstance(t, AddressRanges):
        return ["10.%d.%d.10-10.%d.%d.20" % (150 + n // 250, n % 250, 150 + n // 250, n % 250)]
    if isinstance(t, Mac):
        return ["02:00:00:00:%02X:%02X" % (n // 256, n % 256)]
    if isinstance(t, Ports):
        return ["%d,9000-9010" % (8000 + n)]
    if isinstance(t, Key):
        return [base64.b64encode(bytes([n % 256]) * 32).decode()]
    if isinstance(t, Name):
        return ["item-%d" % n, "i%d" % n]
    if isinstance(t, Str):
        base = ["text %d" % n, "t%d" % n, "host%d.example.com" % n, str(n + 1), "%d.%d" % (n, n), "a%d" % n]
        return [b[: t.max_len] if t.max_len else b for b in base]
    return _guesses(t, n)


def _guesses(t: ValueType, n: int) -> List[str]:
    """Texts to try on a type declared by a menu module (not one of the core
    types): numbers of the sizes its description mentions, in hex and decimal,
    and a few common shapes."""
    sizes = [int(k) for k in re.findall(r"\d+", t.allowed())] + [4, 8]
    out = []
    for k in sizes:
        if 0 < k <= 256:
            out.append(("%x" % (0xA5A5 + n)).rjust(k, "1")[-k:])
            out.append(str(10**k + n)[-k:] if k < 20 else ("1" * k))
    out += [str(n + 1), "%dms" % (n + 100), "%ds" % (n + 5), "192.0.2.%d" % (n % 250 + 1),
            "10.%d.0.0/24" % (n % 250), "text-%d" % n, "yes"]
    return out


def options(router: Router, p: Prop, n: int, own: Optional[str] = None) -> List[str]:
    """Valid texts for ``p``: those whose value differs from the default (so export
    writes them) first; one equal to the default last, only when ``p`` is required."""
    differ, same = [], []
    for text in candidates(router, p.type, n, own):
        try:
            value = p.type.parse(text, router)
        except (ValueProblem, RouterError):
            continue
        (differ if callable(p.default) or value != p.default else same).append(text)
    return differ + (same[:1] if p.required else [])


def _blamed(message: str, names) -> Optional[str]:
    """The property an error message is about."""
    for k in names:
        if message.startswith(k + ":") or message.endswith(" " + k) or ("(%s)" % k) in message:
            return k
    return None


class Filler:
    """Makes items in every writable menu through the CLI.

    A value the menu's own rules refuse (a combination the generator cannot
    know, like a bridge being its own port) is replaced by the property's next
    candidate, or left out when none is accepted (noted in ``dropped``); what
    cannot be made at all is noted in ``failed``.
    """

    def __init__(self, router: Router):
        self.router = router
        self.out: List[str] = []
        self.interp = Interpreter(router, out=self.out.append, json_mode=True)
        self.n = 0
        self.dropped: List[str] = []
        self.failed: List[str] = []

    def _run(self, m: Menu, head: str, choices: Dict[str, List[str]], required: set) -> bool:
        """Run ``head k=v ...`` with the first choice of each property, moving on
        to the next choice of the property an error names."""
        where = menu_words(m.path)
        choices = {k: list(v) for k, v in choices.items() if v}
        for _ in range(200):
            values = {k: v[0] for k, v in choices.items()}
            line = " ".join([where, head] + ["%s=%s" % (k, quote(v)) for k, v in values.items()])
            try:
                self.interp.run_script(line)
                return True
            except Exception as exc:  # CliError carrying the router's message
                message = getattr(exc, "message", str(exc))
                prop = _blamed(message, values)
                if prop is None:
                    self.failed.append("%s: %s" % (line, message))
                    return False
                choices[prop].pop(0)
                if not choices[prop]:
                    if prop in required:
                        self.failed.append("%s: %s" % (line, message))
                        return False
                    self.dropped.append("%s %s: %s" % (where, prop, message))
                    del choices[prop]
        self.failed.append("%s %s: gave up" % (where, head))
        return False

    def _choices(self, m: Menu, own: Optional[str] = None, skip: tuple = ()) -> Dict[str, List[str]]:
        self.n += 1
        return {p.name: options(self.router, p, self.n, own) for p in m.writable_props if p.name not in skip}

    def add(self, m: Menu, skip: tuple = (), fixed: Optional[Dict[str, str]] = None) -> Optional[str]:
        """Add an item; ``skip`` leaves properties out, ``fixed`` gives their text."""
        fixed = fixed or {}
        choices = self._choices(m, skip=skip)
        choices.update({k: [v] for k, v in fixed.items()})
        before = {r[".id"] for r in self.router.store.items(m.path)}
        required = {p.name for p in m.props if p.required} | set(fixed)
        if not self._run(m, "add", choices, required):
            return None
        new = [r[".id"] for r in self.router.store.items(m.path) if r[".id"] not in before]
        return new[0] if new else None

    def set_item(self, m: Menu, item_id: Optional[str]) -> None:
        """Change every writable property of the settings item or of a factory item."""
        if item_id is None:
            self._run(m, "set", self._choices(m), set())
            return
        target = quote(self.router.name_of(item_id)) if m.has_name else item_id
        self._run(m, "set " + target, self._choices(m, own=item_id, skip=(m.factory_key or "",)), set())


def writable_menus() -> List[Menu]:
    return [m for m in REGISTRY.values() if not m.readonly and m.source is None]


def fill(router: Router, per_menu: int = 2) -> Filler:
    """An item (or changed settings) in every writable menu, in export order."""
    f = Filler(router)
    for m in writable_menus():
        if m.single:
            f.set_item(m, None)
            continue
        if m.factory:
            last = router.store.items(m.path)
            if last:
                f.set_item(m, last[-1][".id"])
        if m.can_add:
            for _ in range(per_menu):
                f.add(m)
    return f


# --- export order ------------------------------------------------------------------


def test_export_order_names_every_declared_menu():
    missing = [p for p in REGISTRY if p not in menus.EXPORT_ORDER]
    assert not missing, "menus missing from menus.EXPORT_ORDER: %s" % missing
    assert len(set(menus.EXPORT_ORDER)) == len(menus.EXPORT_ORDER), "a menu is named twice in EXPORT_ORDER"
    assert list(REGISTRY) == [p for p in menus.EXPORT_ORDER if p in REGISTRY]


def _refs(t: ValueType) -> List[Ref]:
    if isinstance(t, Ref):
        return [t]
    if isinstance(t, (Negatable, ListOf)):
        return _refs(t.inner)
    if isinstance(t, OneOf):
        return [r for inner in t.types for r in _refs(inner)]
    return []


def test_no_menu_refers_to_a_menu_exported_after_it():
    order = {p: n for n, p in enumerate(REGISTRY)}
    late = []
    for m in REGISTRY.values():
        for p in m.props:
            for ref in _refs(p.type):
                if ref.target == "interface":
                    if m.interface_type:
                        continue  # interfaces may refer to any interface (checked when made)
                    targets = [im.path for im in REGISTRY.values() if im.interface_type]
                else:
                    assert ref.target in REGISTRY, "%s %s refers to undeclared menu %s" % (m.path, p.name, ref.target)
                    targets = [ref.target]
                for target in targets:
                    if order[target] > order[m.path]:
                        late.append("%s %s -> %s" % (m.path, p.name, target))
    assert not late, "references to menus exported later (reorder menus.EXPORT_ORDER): %s" % late


# --- the round trip ------------------------------------------------------------------


def _listing(router: Router) -> Dict[str, List[Dict[str, Any]]]:
    """Every menu's ``print --json show-sensitive``, without ids, read-only or dynamic values."""
    out: List[str] = []
    interp = Interpreter(router, out=out.append, json_mode=True)
    result = {}
    for m in REGISTRY.values():
        if m.readonly or m.source is not None:
            continue
        out.clear()
        interp.run_script("%s print show-sensitive" % menu_words(m.path))
        rows = json.loads(out[-1])
        keep = {p.name for p in m.props if not p.readonly}
        result[m.path] = [{k: v for k, v in r.items() if k in keep} for r in rows if not r.get(".dynamic")]
    return result


def _assert_export_reproduces(router: Router, fresh_state: Path) -> None:
    """``/export show-sensitive`` of ``router`` (closed after) runs on a factory
    device in ``fresh_state`` and gives the same items in every menu."""
    out: List[str] = []
    Interpreter(router, out=out.append).run_script("/export show-sensitive")
    script = "\n".join(out)
    want = _listing(router)
    router.close()
    fresh = Router(str(fresh_state), seed=2)
    try:
        Interpreter(fresh, out=lambda text: None).run_script(script)
    except Exception as exc:
        pytest.fail("the export does not run on a factory device: %s\n--- export ---\n%s" % (exc, script))
    got = _listing(fresh)
    fresh.close()
    for path in want:
        assert got[path] == want[path], "%s differs after export + import\n--- export ---\n%s" % (path, script)


@pytest.mark.slow
def test_export_of_every_menu_runs_on_a_factory_device_and_gives_the_same_config(tmp_path):
    router = Router(str(tmp_path / "a"), seed=1)
    f = fill(router)
    assert not f.failed, "could not make items from the schema:\n  " + "\n  ".join(f.failed)
    for m in writable_menus():
        if m.can_add:
            made = [it for it in router.store.items(m.path) if not it.get(".factory")]
            assert made, "%s: no item could be made (dropped: %s)" % (m.path, f.dropped)
    _assert_export_reproduces(router, tmp_path / "b")


def _rewire(router: Router) -> int:
    """Point references at items made *after* the item holding them (a pool's
    next-pool at a newer pool, a client's interface at a newer interface of a
    later menu), so the export has to order items by what they need."""
    made = [(m, it[".id"]) for m in writable_menus() for it in router.store.items(m.path)]
    changed = 0
    for m, item_id in made:
        for p in m.writable_props:
            refs = _refs(p.type)
            if not refs or p.name in ("name",):
                continue
            later = [(tm, tid) for tm, tid in made[made.index((m, item_id)) + 1:] if tid != item_id
                     and (tm.path == refs[0].target or (refs[0].target == "interface" and tm.interface_type))]
            for tm, tid in reversed(later):
                name = router.name_of(tid)
                try:
                    router.set(m.path, [] if m.single else [item_id], {p.name: name})
                except RouterError:
                    continue
                changed += 1
                break
    return changed


@pytest.mark.slow
def test_export_orders_items_by_what_they_refer_to(tmp_path):
    router = Router(str(tmp_path / "a"), seed=1)
    fill(router)
    assert _rewire(router) >= 2
    _assert_export_reproduces(router, tmp_path / "b")


def test_export_resolves_a_cycle_of_references(tmp_path):
    router = Router(str(tmp_path / "a"))
    sh = Interpreter(router, out=lambda text: None)
    sh.run_script("/ip pool add name=a ranges=10.0.0.0/24\n/ip pool add name=b ranges=10.0.1.0/24 next-pool=a\n"
                  "/ip pool set a next-pool=b")
    out: List[str] = []
    Interpreter(router, out=out.append).run_script("/export")
    want = _listing(router)["/ip/pool"]
    router.close()
    fresh = Router(str(tmp_path / "b"))
    Interpreter(fresh, out=lambda text: None).run_script("\n".join(out))
    assert _listing(fresh)["/ip/pool"] == want
    fresh.close()


def test_export_of_removed_and_unset_factory_values(tmp_path):
    """Factory items changed the other way: values the factory gave them unset,
    removable factory items removed."""
    router = Router(str(tmp_path / "a"))
    changed = 0
    for m in writable_menus():
        for it in list(router.store.items(m.path)):
            if not it.get(".factory"):
                continue
            factory = next((f for f in m.factory if (f.get(m.factory_key or "name") or f.get("name")) == it[".factory"]), {})
            names = [k for k in factory if m.prop(k) is not None and not m.prop(k).readonly
                     and not m.prop(k).required and k not in ("name", m.factory_key)]
            for name in names:
                try:
                    router.unset(m.path, [it[".id"]], [name])
                    changed += 1
                except RouterError:
                    pass
            if m.can_remove and m.factory_removable and it is router.store.items(m.path)[-1]:
                router.remove(m.path, [it[".id"]])
                changed += 1
    if not changed:
        pytest.skip("no factory item declares a value that can be unset, nor can be removed")
    out: List[str] = []
    Interpreter(router, out=out.append).run_script("/export show-sensitive")
    want = _listing(router)
    router.close()
    fresh = Router(str(tmp_path / "b"))
    Interpreter(fresh, out=lambda text: None).run_script("\n".join(out))
    got = _listing(fresh)
    fresh.close()
    for path in want:
        assert got[path] == want[path], "%s differs\n--- export ---\n%s" % (path, "\n".join(out))


def test_export_leaves_out_secrets_unless_asked(tmp_path):
    router = Router(str(tmp_path / "a"))
    secret_props = [(m, p) for m in writable_menus() for p in m.writable_props if p.secret]
    if not secret_props:
        pytest.skip("no menu declares a secret property yet")
    fill(router, per_menu=1)
    plain, sensitive = [], []
    Interpreter(router, out=plain.append).run_script("/export")
    Interpreter(router, out=sensitive.append).run_script("/export show-sensitive")
    plain_text, sensitive_text = "\n".join(plain), "\n".join(sensitive)
    for m, p in secret_props:
        if (" %s=" % p.name) in sensitive_text:
            assert (" %s=" % p.name) not in plain_text, "%s %s exported without show-sensitive" % (m.path, p.name)
    router.close()


def test_export_of_a_factory_device_is_empty(tmp_path):
    """Without show-sensitive: a device's own secrets (a ZeroTier identity made
    at first start) are the only thing a factory device may export."""
    router = Router(str(tmp_path / "a"))
    out: List[str] = []
    Interpreter(router, out=out.append).run_script("/export")
    lines = [line for line in "\n".join(out).splitlines() if line and not line.startswith("#")]
    assert lines == [], "a factory device exports changes: %s" % lines
    router.close()


@settings(max_examples=30, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=80),
       st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30))
def test_any_text_survives_export_and_import(comment, name):
    """Whatever a comment or name holds (quotes, backslashes, $, line breaks,
    non-Latin letters) comes back the same from export + import."""
    a = Router(None)
    Interpreter(a, out=lambda text: None).run_script(
        "/ip pool add name=%s ranges=10.0.0.0/24 comment=%s" % (quote(name), quote(comment)))
    out: List[str] = []
    Interpreter(a, out=out.append).run_script("/export")
    b = Router(None)
    Interpreter(b, out=lambda text: None).run_script("\n".join(out))
    def pools(router):
        got: List[str] = []
        Interpreter(router, out=got.append, json_mode=True).run_script("/ip pool print")
        return [{k: v for k, v in r.items() if k != ".id"} for r in json.loads(got[0])]
    assert pools(b) == pools(a)
    assert pools(b)[0]["comment"] == comment and pools(b)[0]["name"] == name
    a.close()
    b.close()
