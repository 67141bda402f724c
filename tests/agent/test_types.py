"""Value types: what each accepts, how it normalises, what its errors say.

Errors name what is allowed; the router prefixes the property name, which the
last tests check through a real Router over every declared menu.  Hypothesis
checks that printing a parsed value and parsing it again gives the same value.
"""

from __future__ import annotations

import base64
import ipaddress
import string
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "agent") not in sys.path:
    sys.path.insert(0, str(REPO / "agent"))

from winbox_agent.errors import RouterError, ValueProblem  # noqa: E402
from winbox_agent.router import Router  # noqa: E402
from winbox_agent.schema import REGISTRY  # noqa: E402
from winbox_agent.types import (AddressRanges, Bool, Duration, Enum, Flags, Host, Int, Interface,  # noqa: E402
                                IPAny, IPv4, IPv6, Key, ListOf, Mac, Name, Negatable, OneOf, Ports, Prefix,
                                Ref, Str)


def problem(t, text: str, ctx=None) -> str:
    with pytest.raises(ValueProblem) as info:
        t.parse(text, ctx)
    return str(info.value)


@pytest.fixture(scope="module")
def router(tmp_path_factory):
    r = Router(str(tmp_path_factory.mktemp("types") / "state"))
    yield r
    r.close()


# --- integers ----------------------------------------------------------------


def test_int_in_range_and_its_errors():
    t = Int(16, 256)
    assert t.parse("16") == 16 and t.parse(" 256 ") == 256 and t.parse("+20") == 20
    assert t.parse("0x20") == 32
    assert problem(t, "300") == "300 is out of range 16..256"
    assert problem(t, "15") == "15 is out of range 16..256"
    assert problem(t, "abc") == "abc is not an integer in 16..256"
    assert problem(t, "") == '"" is not an integer in 16..256'
    # only ASCII digits, as RouterOS: no "1_000", no other scripts' digits
    assert "not an integer" in problem(t, "1_00")
    assert "not an integer" in problem(t, "\u0661\u0662")
    assert "not an integer" in problem(t, "1.5")


def test_int_words_and_units():
    t = Int(64, 65535, words=("auto", "disabled"))
    assert t.parse("AUTO") == "auto" and t.format("auto") == "auto"
    assert problem(t, "abc") == "abc is not an integer in 64..65535 or auto | disabled"
    assert "auto" in t.allowed() and "64..65535" in t.allowed()
    mib = Int(16, 256, unit="MiB")
    assert mib.parse("32MiB") == 32 and mib.parse("32mib") == 32 and mib.parse("32") == 32
    assert "out of range 16..256" in problem(mib, "300MiB")
    assert Int(hex_format=True).format(255) == "0xFF"
    assert Int().parse("-5") == -5


# --- durations ---------------------------------------------------------------


@pytest.mark.parametrize("text, seconds, printed", [
    ("30s", 30, "30s"),
    ("1h30m", 5400, "1h30m"),
    ("00:05:00", 300, "5m"),
    ("90", 90, "1m30s"),
    ("1d00:00:01", 86401, "1d1s"),
    ("1w2d", 777600, "1w2d"),
    ("0s", 0, "0s"),
    ("1s500ms", 1.5, "1s500ms"),
    ("250ms", 0.25, "250ms"),
])
def test_duration_forms(text, seconds, printed):
    t = Duration()
    assert t.parse(text) == seconds
    assert t.format(t.parse(text)) == printed


@pytest.mark.parametrize("text", ["", "abc", "5M", "1h 30m", "-5s", "1x", "h"])
def test_duration_refused_says_what_is_allowed(text):
    message = problem(Duration(), text)
    assert "is not a time interval" in message and "30s" in message and "00:05:00" in message


def test_duration_range_and_words():
    t = Duration(lo=1, hi=3600, words=("none",))
    assert t.parse("none") == "none" and t.format("none") == "none"
    assert problem(t, "2h") == "2h is out of range 1s..1h"
    assert problem(t, "0s") == "0s is out of range 1s..1h"


# --- addresses ---------------------------------------------------------------


def test_ipv4_ipv6_and_either():
    assert IPv4().parse(" 10.0.0.1 ") == "10.0.0.1"
    assert problem(IPv4(), "10.0.300.1") == "10.0.300.1 is not a valid IPv4 address (A.B.C.D)"
    assert "IPv4" in problem(IPv4(), "::1")
    assert IPv6().parse("2001:DB8::1") == "2001:db8::1"
    assert "IPv6" in problem(IPv6(), "10.0.0.1")
    assert IPAny().parse("10.0.0.1") == "10.0.0.1" and IPAny().parse("::1") == "::1"
    assert "IPv4 or IPv6" in problem(IPAny(), "host")


def test_prefix_normalises():
    t = Prefix()
    assert t.parse("10.5.8.20") == "10.5.8.20/32"
    assert t.parse("10.5.8.20/24") == "10.5.8.0/24"          # host bits cleared
    assert t.parse("0.0.0.0/0") == "0.0.0.0/0"
    assert "not a valid IPv4 prefix" in problem(t, "10.5.8.0/33")
    assert "not a valid IPv4 prefix" in problem(t, "10.0.300.1/24")
    assert "not an IPv4 prefix" in problem(t, "2001:db8::/32")
    assert Prefix(6).parse("2001:db8::1/48") == "2001:db8::/48"
    assert Prefix(6).parse("2001:db8::1") == "2001:db8::1/128"
    assert Prefix(None).parse("2001:db8::1/48") == "2001:db8::/48"


def test_interface_address_keeps_host_bits():
    t = Interface(4)
    assert t.parse("10.0.2.1/24") == "10.0.2.1/24"
    assert t.parse("10.0.2.1") == "10.0.2.1/32"
    assert problem(t, "10.0.300.1/24") == (
        "10.0.300.1/24 is not a valid IPv4 address with prefix length (like 192.168.88.1/24)")
    assert "IPv4" in problem(t, "2001:db8::1/64")
    assert Interface(6).parse("2001:db8::1/64") == "2001:db8::1/64"


def test_host_is_address_or_name():
    t = Host()
    assert t.parse("192.168.51.3") == "192.168.51.3"
    assert t.parse("vpn.example.com") == "vpn.example.com"
    assert t.parse("10.0.0.1@main") == "10.0.0.1@main"
    for bad in ("1.2.3", "-bad", "", "a b", "x..y"):
        assert "is not an IP address or host name" in problem(t, bad), bad


def test_address_ranges():
    t = AddressRanges()
    assert t.parse("10.0.0.2-10.0.0.5,10.0.1.0/24") == ["10.0.0.2-10.0.0.5", "10.0.1.0/24"]
    assert t.format(["10.0.0.2-10.0.0.5", "10.0.1.0/24"]) == "10.0.0.2-10.0.0.5,10.0.1.0/24"
    assert t.parse("10.0.0.9") == ["10.0.0.9/32"]
    assert problem(t, "10.0.0.5-10.0.0.2") == (
        "10.0.0.5-10.0.0.2 is not a valid range: its first address is above its last")
    assert "mixes IPv4 and IPv6" in problem(t, "10.0.0.1-2001::1")
    assert "is not an address range" in problem(t, "x-y")
    assert problem(t, "") == "must name at least one range"


# --- MAC addresses -----------------------------------------------------------


@pytest.mark.parametrize("text", ["02:00:00:aa:bb:cc", "02-00-00-AA-BB-CC", "020000aabbcc", " 02:00:00:AA:BB:CC"])
def test_mac_separators(text):
    assert Mac().parse(text) == "02:00:00:AA:BB:CC"


@pytest.mark.parametrize("text", ["02:00-00:aa:bb:cc", "02:00:00:aa:bb", "gg:00:00:aa:bb:cc", "02:00:00:aa:bb:cc:dd", ""])
def test_mac_refused(text):
    assert "is not a MAC address (like 02:00:00:AA:BB:CC)" in problem(Mac(), text)


# --- choices -------------------------------------------------------------------


def test_bool_and_enum():
    assert Bool().parse("yes") is True and Bool().parse("NO") is False
    assert Bool().parse("true") is True and Bool().format(False) == "no"
    assert problem(Bool(), "maybe") == "maybe is not yes or no"
    t = Enum("disabled", "enabled", "proxy-arp")
    assert t.parse("Enabled") == "enabled"
    assert problem(t, "bogus") == "bogus is not one of disabled | enabled | proxy-arp"


def test_multi_choice_set():
    t = Flags("pap", "chap", "mschap1", "mschap2")
    assert t.parse("mschap2,chap") == ["chap", "mschap2"]            # kept in choice order
    assert t.format(t.parse("mschap2,chap")) == "chap,mschap2"
    assert t.parse("chap,chap,CHAP") == ["chap"]                      # duplicates once
    assert t.parse("") == []
    assert problem(t, "chap,foo") == "foo is not one of pap, chap, mschap1, mschap2"
    strict = Flags("a", "b", allow_empty=False)
    assert problem(strict, "") == "must name at least one of a, b"


def test_strings_and_names():
    assert Str().parse(' spaces and "quotes" ') == ' spaces and "quotes" '
    assert problem(Str(max_len=3), "abcd") == "is longer than 3 characters"
    assert "NUL" in problem(Str(), "a\x00b")
    assert problem(Str(pattern=r"[a-z]+", what="lower-case letters"), "A1") == "A1 is not lower-case letters"
    assert problem(Name(), "") == "must not be empty"
    assert problem(Name(), "a\tb") == "must not contain control characters"
    assert Name().parse("MT-User ünï") == "MT-User ünï"


def test_ports():
    t = Ports()
    assert t.parse("80,443,1000-2000") == "80,443,1000-2000"
    assert t.parse("80-80") == "80"
    assert problem(t, "70000") == "70000 is out of range 0..65535"
    assert problem(t, "2000-1000") == "2000-1000 is not a valid port range: its first port is above its last"
    assert "is not a port or port range" in problem(t, "http")
    assert problem(t, "") == "must name a port"


def test_negation():
    t = Negatable(Enum("tcp", "udp"))
    assert t.parse("!tcp") == ["!", "tcp"] and t.format(["!", "tcp"]) == "!tcp"
    assert t.parse("udp") == "udp" and t.format("udp") == "udp"
    assert "is not one of tcp | udp" in problem(t, "!icmp")
    assert "is not one of" in problem(t, "!")
    assert t.allowed().startswith("[!]")


def test_key():
    key = base64.b64encode(bytes(range(32))).decode()
    assert Key().parse(key) == key
    for bad in ("x", base64.b64encode(bytes(31)).decode(), key[:-1] + "!"):
        assert "is not a base64 key of 32 bytes" in problem(Key(), bad)


def test_one_of_tries_each_type_and_names_them_all():
    t = OneOf(IPv4(), Duration())
    assert t.parse("10.0.0.1") == "10.0.0.1"
    assert t.parse("5m") == 300
    assert t.format(300) == "5m"              # printed as the type that reads it back
    assert t.format("10.0.0.1") == "10.0.0.1"
    assert problem(t, "x") == "x is not IPv4 address | time interval"


def test_list_of():
    t = ListOf(IPv4())
    assert t.parse("1.2.3.4, 5.6.7.8") == ["1.2.3.4", "5.6.7.8"]
    assert t.format(["1.2.3.4", "5.6.7.8"]) == "1.2.3.4,5.6.7.8"
    assert t.parse("") == []
    assert "not a valid IPv4 address" in problem(t, "1.2.3.4,5.6.7")


# --- references (need a router to turn names into ids) ------------------------


def test_reference_by_name_is_stored_as_id(router):
    t = Ref("interface")
    ether1 = router.find("/interface/ethernet", "ether1")
    assert t.parse("ether1", router) == ether1
    assert t.format(ether1, router) == "ether1"
    assert t.references(ether1) == [ether1]
    assert problem(t, "ether99", router) == "no such interface (ether99)"
    pools = Ref("/ip/pool", words=("none",))
    assert pools.parse("none", router) == "none" and pools.references("none") == []
    assert problem(pools, "nopool", router) == "no such pool (nopool)"
    many = Ref("interface", multiple=True)
    ether2 = router.find("/interface/ethernet", "ether2")
    assert many.parse("ether1,ether2", router) == [ether1, ether2]
    assert many.format([ether1, ether2], router) == "ether1,ether2"
    assert problem(many, "", router) == "must name at least one interface"


def test_negated_reference(router):
    t = Negatable(Ref("interface"))
    ether1 = router.find("/interface/ethernet", "ether1")
    assert t.parse("!ether1", router) == ["!", ether1]
    assert t.format(["!", ether1], router) == "!ether1"
    assert t.references(["!", ether1]) == [ether1]


def test_one_of_with_a_reference(router):
    t = OneOf(IPv4(), Ref("interface"))
    ether1 = router.find("/interface/ethernet", "ether1")
    assert t.parse("10.0.0.1", router) == "10.0.0.1"
    assert t.parse("ether1", router) == ether1
    assert t.format(ether1, router) == "ether1" and t.references(ether1) == [ether1]
    assert problem(t, "ether99", router) == "ether99 is not IPv4 address | name of an existing interface"


# --- round trips -----------------------------------------------------------------


def _roundtrip(t, value, ctx=None):
    text = t.format(value, ctx)
    assert t.parse(text, ctx) == value, (value, text)
    assert t.format(t.parse(text, ctx), ctx) == text


@given(st.integers(-10**6, 10**6), st.integers(0, 10**6))
def test_roundtrip_int(lo, width):
    t = Int(lo, lo + width, words=("auto",))
    _roundtrip(t, lo)
    _roundtrip(t, lo + width)
    _roundtrip(t, "auto")


@given(st.integers(0, 10**8), st.integers(0, 999))
def test_roundtrip_duration(seconds, millis):
    t = Duration()
    _roundtrip(t, seconds)
    value = round(seconds + millis / 1000, 3)     # canonical: to the millisecond
    _roundtrip(t, int(value) if value == int(value) else value)


@given(st.ip_addresses(v=4))
def test_roundtrip_ipv4(addr):
    _roundtrip(IPv4(), IPv4().parse(str(addr)))
    _roundtrip(IPAny(), str(addr))
    _roundtrip(Host(), str(addr))


@given(st.ip_addresses(v=6))
def test_roundtrip_ipv6(addr):
    _roundtrip(IPv6(), IPv6().parse(addr.exploded))
    _roundtrip(IPAny(), IPAny().parse(addr.exploded))


@given(st.ip_addresses(v=4), st.integers(0, 32))
def test_roundtrip_prefix_and_interface(addr, length):
    text = "%s/%d" % (addr, length)
    net = Prefix().parse(text)
    assert net == str(ipaddress.ip_network(text, strict=False))
    _roundtrip(Prefix(), net)
    _roundtrip(Interface(4), Interface(4).parse(text))


@given(st.ip_addresses(v=6), st.integers(0, 128))
def test_roundtrip_prefix6(addr, length):
    _roundtrip(Prefix(6), Prefix(6).parse("%s/%d" % (addr, length)))
    _roundtrip(Interface(6), Interface(6).parse("%s/%d" % (addr, length)))


@given(st.binary(min_size=6, max_size=6), st.sampled_from([":", "-", ""]), st.booleans())
def test_roundtrip_mac(raw, sep, upper):
    text = sep.join("%02x" % b for b in raw)
    value = Mac().parse(text.upper() if upper else text)
    assert value == ":".join("%02X" % b for b in raw)
    _roundtrip(Mac(), value)


CHOICES = ("pap", "chap", "mschap1", "mschap2")


@given(st.lists(st.sampled_from(CHOICES)), st.booleans())
def test_roundtrip_flags(words, upper):
    t = Flags(*CHOICES)
    value = t.parse(",".join(w.upper() if upper else w for w in words))
    assert value == [c for c in CHOICES if c in words]
    _roundtrip(t, value)


@given(st.lists(st.tuples(st.integers(0, 65535), st.integers(0, 1000)), min_size=1))
def test_roundtrip_ports(ranges):
    text = ",".join("%d-%d" % (lo, min(65535, lo + w)) for lo, w in ranges)
    _roundtrip(Ports(), Ports().parse(text))


@given(st.lists(st.tuples(st.ip_addresses(v=4), st.integers(0, 1000)), min_size=1))
def test_roundtrip_ranges(ranges):
    parts = []
    for lo, w in ranges:
        hi = ipaddress.IPv4Address(min(int(lo) + w, 2**32 - 1))
        parts.append("%s-%s" % (lo, hi))
    _roundtrip(AddressRanges(), AddressRanges().parse(",".join(parts)))


TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@given(TEXT)
def test_roundtrip_str(text):
    _roundtrip(Str(), text)


@given(st.text(st.characters(min_codepoint=32, blacklist_categories=("Cs",)), min_size=1, max_size=64))
def test_roundtrip_name(text):
    _roundtrip(Name(), text)


@given(st.binary(min_size=32, max_size=32))
def test_roundtrip_key(raw):
    _roundtrip(Key(), base64.b64encode(raw).decode())


LABEL = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=10)


@given(st.lists(LABEL, min_size=1, max_size=4).map(".".join))
def test_roundtrip_host_name(name):
    if name.replace(".", "").isdigit():
        return  # all digits reads as a (bad) address, not a name
    _roundtrip(Host(), name)


@given(st.one_of(st.ip_addresses(v=4).map(str), st.integers(0, 10**6)))
def test_roundtrip_one_of(value):
    _roundtrip(OneOf(IPv4(), Duration()), value)


@given(st.booleans(), st.sampled_from(("tcp", "udp", "icmp")))
def test_roundtrip_negatable(neg, proto):
    t = Negatable(Enum("tcp", "udp", "icmp"))
    _roundtrip(t, ["!", proto] if neg else proto)


@given(st.lists(st.ip_addresses(v=4).map(str)))
def test_roundtrip_list(addrs):
    _roundtrip(ListOf(IPv4()), addrs)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_roundtrip_references(router, data):
    names = [router.name_of(r[".id"]) for r in router.rows("/interface/ethernet")]
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
    t = Ref("interface", multiple=True)
    _roundtrip(t, t.parse(",".join(chosen), router), router)


# --- every declared property -------------------------------------------------------


def _props():
    for m in REGISTRY.values():
        for p in m.props:
            yield pytest.param(m, p, id="%s:%s" % (m.path, p.name))


@pytest.mark.parametrize("m, p", list(_props()))
def test_every_default_reads_back_as_itself(router, m, p):
    """A declared default prints as text its own type accepts as the same value."""
    if p.default is None or callable(p.default):
        return
    text = p.type.format(p.default, router)
    assert p.type.parse(text, router) == p.default, "%s %s: default %r prints as %r" % (
        m.path, p.name, p.default, text)
    assert p.type.allowed(), "%s %s: type says nothing about what is allowed" % (m.path, p.name)


# --- the router names the property ---------------------------------------------------


def _change(router, m, values):
    """Try ``values`` on the menu the way a person would: add, or set the settings/first item."""
    if m.single:
        return router.set(m.path, [], values)
    if m.can_add:
        return router.add(m.path, values)
    items = router.store.items(m.path)
    if not items:
        pytest.skip("%s has no item to set" % m.path)
    return router.set(m.path, [items[0][".id"]], values)


def _writable_menus():
    return [m for m in REGISTRY.values() if not m.readonly and m.source is None
            and (m.single or m.can_add or m.factory)]


def _bad_values():
    """(menu, prop, bad text, expected message start) for every Int, Enum and Bool property."""
    for m in _writable_menus():
        for p in m.writable_props:
            t = p.type
            case = "%s:%s" % (m.path, p.name)
            if isinstance(t, Int) and t.hi is not None:
                yield pytest.param(m, p, str(t.hi + 1), "%s: %d is out of range " % (p.name, t.hi + 1), id=case + ":range")
            if isinstance(t, Int):
                yield pytest.param(m, p, "abc", "%s: abc is not an integer" % p.name, id=case + ":int")
            if isinstance(t, Enum):
                yield pytest.param(m, p, "bogus", "%s: bogus is not one of " % p.name, id=case + ":enum")
            if isinstance(t, Bool):
                yield pytest.param(m, p, "maybe", "%s: maybe is not yes or no" % p.name, id=case + ":bool")


@pytest.mark.parametrize("m, p, text, message", list(_bad_values()))
def test_router_prefixes_the_property_name(router, m, p, text, message):
    rev = router.store.revision
    with pytest.raises(RouterError) as info:
        _change(router, m, {p.name: text})
    assert info.value.message.startswith(message), info.value.message
    assert info.value.prop == p.name
    assert router.store.revision == rev


def test_router_errors_name_the_field(router):
    rev = router.store.revision
    with pytest.raises(RouterError) as info:
        router.add("/ip/address", {"address": "10.0.300.1/24", "interface": "ether1"})
    assert info.value.message.startswith("address: 10.0.300.1/24 is not a valid IPv4 address")
    assert info.value.prop == "address"
    with pytest.raises(RouterError) as info:
        router.add("/ip/address", {"address": "10.0.1.2/24", "interfae": "ether1"})
    assert info.value.message == "unknown parameter interfae" and info.value.prop == "interfae"
    with pytest.raises(RouterError) as info:
        router.add("/ip/address", {"address": "10.0.1.2/24", "interface": "public"})
    assert info.value.message == "interface: no such interface (public)"
    with pytest.raises(RouterError) as info:
        router.set("/interface/ethernet", [router.find("/interface/ethernet", "ether1")], {"mtu": "70000"})
    assert info.value.message == "mtu: 70000 is out of range 0..65535"
    assert router.store.revision == rev


@pytest.mark.parametrize("path, values, message", [
    ("/metarouter", {"name": "mr9", "memory-size": "300"}, "memory-size: 300 is out of range 16..256"),
    ("/interface/pppoe-client", {"interface": "ether2", "max-mru": "abc"}, "max-mru: abc is not an integer"),
])
def test_messages_from_the_documents_examples(router, path, values, message):
    if path not in REGISTRY:
        pytest.skip("%s is not declared yet" % path)
    with pytest.raises(RouterError) as info:
        router.add(path, values)
    assert info.value.message.startswith(message)
