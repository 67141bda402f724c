"""Every property of every menu, given text it cannot take, is refused with
a message that names the property and says what is wrong or allowed; no type
raises anything but that, and nothing is committed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from winbox_agent.errors import CATEGORIES, RouterError  # noqa: E402
from winbox_agent.router import Router, parse_value  # noqa: E402
from winbox_agent.schema import REGISTRY  # noqa: E402

NASTY = ["", " ", "\x00", "x" * 5000, "-1", "99999999999999999999999", "0x", "1..2", "[", "\"", "a,b,,c", "!",
         "!!x", "*FFFFFF", "*0", "10.0.0.300", "::g", "é", "🦊", "\udcff", "1h1h", "yes,no", "none,all", "-",
         "1-", "1.5", "10.0.0.1/33", "02:00:00:00:00", "=", "\n", "\t", "$x", "[ find ]"]


def _props():
    out = []
    for m in REGISTRY.values():
        if m.readonly or m.source is not None:
            continue
        for p in m.writable_props:
            out.append((m, p))
        for c in m.commands:
            for a in c.args:
                out.append((m, a))
    return out


PROPS = _props()


@pytest.fixture(scope="module")
def router():
    r = Router(None, seed=8)
    yield r
    r.close()


def _try(router: Router, m, p, text: str) -> None:
    """Give ``text`` to ``p`` the way a person would; check the refusal."""
    rev = router.store.revision
    try:
        if any(p is a for c in m.commands for a in c.args):
            parse_value(p, text, router)        # what Router.command does with each argument
            return
        if m.single:
            router.set(m.path, [], {p.name: text})
        elif m.can_add:
            router.add(m.path, {p.name: text})
        elif router.store.items(m.path):
            router.set(m.path, [router.store.items(m.path)[0][".id"]], {p.name: text})
        return
    except RouterError as exc:
        assert exc.category in CATEGORIES
        if exc.prop == p.name and exc.category == "argument":
            assert exc.message.startswith(p.name + ": "), (m.path, p.name, text, exc.message)
            assert len(exc.message) - len(p.name) - 2 >= 9, (m.path, p.name, text, exc.message)
            assert router.store.revision == rev
        elif exc.prop is None or exc.prop != p.name:
            assert router.store.revision == rev or exc.category != "argument"


def test_every_property_refuses_nasty_text_with_its_name(router):
    checked = 0
    for m, p in PROPS:
        for text in NASTY:
            _try(router, m, p, text)
            checked += 1
    assert checked > 1000
    print("\n%d property x text cases" % checked)


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(which=st.integers(0, len(PROPS) - 1),
       text=st.text(max_size=40) | st.sampled_from(NASTY) | st.from_regex(r"[0-9a-f:./,*!-]{1,30}", fullmatch=True))
def test_random_text_for_any_property(router, which, text):
    m, p = PROPS[which]
    _try(router, m, p, text)
