"""/ip firewall filter and /ip firewall nat: ordered rule lists.

Rules are matched top to bottom, so order matters: ``add ... place-before=1``
(an item number from the last ``print``) and ``move`` place them.

Chains: ``input``, ``forward`` and ``output`` (filter) and ``srcnat`` and
``dstnat`` (nat) are the built-in ones; like RouterOS, any other name is a
custom chain reached through ``action=jump jump-target=NAME``.  The MLPPP
example's ``chain=src-nat`` is therefore accepted as written: it makes a
custom chain named ``src-nat`` (which nothing jumps to, so its rules see no
traffic; the simulated counters stay at zero), not the built-in ``srcnat``.
"""

import ipaddress

from ..errors import RouterError, ValueProblem
from ..schema import FLAG_DISABLED, FLAG_DYNAMIC, FLAG_INVALID, Prop, comment_prop, disabled_prop, menu
from ..types import Bool, Duration, Enum, Flags, Int, Negatable, OneOf, Ports, Ref, Str, ValueType

FILTER_CHAINS = ("input", "forward", "output")
NAT_CHAINS = ("srcnat", "dstnat")
PORT_PROTOCOLS = ("tcp", "udp", "udp-lite", "sctp", "dccp")
PORT_PROTOCOL_NUMBERS = (6, 17, 136, 132, 33)
PROTOCOLS = ("icmp", "igmp", "ggp", "ip-encap", "st", "tcp", "egp", "pup", "udp", "hmp", "xns-idp", "rdp",
             "iso-tp4", "dccp", "xtp", "ddp", "idpr-cmtp", "ipv6", "rsvp", "gre", "ipsec-esp", "ipsec-ah",
             "icmpv6", "ospf", "ipip", "etherip", "encap", "pim", "vrrp", "l2tp", "sctp", "udp-lite", "rspf")
FILTER_ACTIONS = ("accept", "add-dst-to-address-list", "add-src-to-address-list", "drop", "fasttrack-connection",
                  "jump", "log", "passthrough", "reject", "return", "tarpit")
NAT_ACTIONS = ("accept", "add-dst-to-address-list", "add-src-to-address-list", "dst-nat",
               "endpoint-independent-nat", "jump", "log", "masquerade", "netmap", "passthrough", "redirect",
               "return", "same", "src-nat")
CONNECTION_STATES = ("established", "related", "new", "invalid", "untracked")


class Chain(Str):
    """A chain name: a built-in one or any custom name."""

    def __init__(self, builtin):
        super().__init__(max_len=255, pattern=r"[A-Za-z0-9_.\-]+", what="a chain name (letters, digits, - _ .)")
        self.builtin = tuple(builtin)

    def allowed(self):
        return " | ".join(self.builtin) + " | custom chain name"

    def describe(self):
        d = super().describe()
        d["choices"] = list(self.builtin)
        d["open"] = True
        return d


class AddressMatch(ValueType):
    """An address matcher: ``10.0.0.1``, ``10.1.101.0/24`` (host bits cleared;
    a /32 prints as the bare address) or a range ``10.0.0.1-10.0.0.9``."""

    kind = "address-match"

    def parse(self, text, ctx=None):
        t = text.strip()
        if "-" in t:
            a, _, b = t.partition("-")
            try:
                lo, hi = ipaddress.IPv4Address(a.strip()), ipaddress.IPv4Address(b.strip())
            except ValueError:
                raise ValueProblem("%s is not an IPv4 address range (A.B.C.D-E.F.G.H)" % t) from None
            if lo > hi:
                raise ValueProblem("%s is not a range whose first address is below its last" % t)
            return "%s-%s" % (lo, hi)
        try:
            net = ipaddress.IPv4Network(t, strict=False)
        except ValueError:
            raise ValueProblem("%s is not an IPv4 address, prefix (A.B.C.D/N) or range" % (t or '""')) from None
        return str(net.network_address) if net.prefixlen == 32 else str(net)

    def allowed(self):
        return "IPv4 address | prefix (A.B.C.D/N) | range (A.B.C.D-E.F.G.H)"


def _neg(value):
    """The value of a possibly negated matcher without its ``!``."""
    if isinstance(value, list) and value and value[0] == "!":
        return value[1]
    return value


def _validate_rule(router, view):
    action = view.get("action")
    protocol = _neg(view.get("protocol"))
    ports_ok = protocol in PORT_PROTOCOLS or protocol in PORT_PROTOCOL_NUMBERS
    for prop in ("src-port", "dst-port", "any-port"):
        if view.get(prop) not in (None, "") and not ports_ok:
            raise RouterError("%s: ports can be matched only with protocol %s" % (prop, " | ".join(PORT_PROTOCOLS)),
                              "argument", prop)
    if action == "jump" and not view.get("jump-target"):
        raise RouterError("jump-target: must be set when action is jump", "argument", "jump-target")
    if view.get("jump-target") and action != "jump":
        raise RouterError("jump-target: only used when action is jump", "argument", "jump-target")
    if action == "jump" and view.get("jump-target") == view.get("chain"):
        raise RouterError("jump-target: a rule cannot jump to its own chain (%s)" % view.get("chain"),
                          "argument", "jump-target")
    if view.get("reject-with") and action != "reject":
        raise RouterError("reject-with: only used when action is reject", "argument", "reject-with")
    if action in ("add-src-to-address-list", "add-dst-to-address-list") and not view.get("address-list"):
        raise RouterError("address-list: must be set when action is %s" % action, "argument", "address-list")
    if view.get("to-ports") not in (None, "") and not ports_ok:
        raise RouterError("to-ports: ports can be translated only with protocol %s" % " | ".join(PORT_PROTOCOLS),
                          "argument", "to-ports")
    if action == "netmap" and not view.get("to-addresses"):
        raise RouterError("to-addresses: must be set when action is netmap", "argument", "to-addresses")
    for prop in ("to-addresses", "to-ports"):
        if view.get(prop) not in (None, "") and action not in ("dst-nat", "src-nat", "netmap", "redirect",
                                                               "same", "endpoint-independent-nat"):
            raise RouterError("%s: only used when action is dst-nat, src-nat, netmap or redirect" % prop,
                              "argument", prop)


def _matchers():
    """Properties every rule has for choosing packets (General and Advanced tabs)."""
    return [
        Prop("src-address", Negatable(AddressMatch()), doc="Source address, prefix or range (! negates)."),
        Prop("dst-address", Negatable(AddressMatch()), doc="Destination address, prefix or range (! negates)."),
        Prop("protocol", Negatable(OneOf(Enum(*PROTOCOLS), Int(0, 255))), doc="IP protocol by name or number."),
        Prop("src-port", Negatable(Ports()), doc="Source ports (tcp, udp...): 80,443,1000-2000."),
        Prop("dst-port", Negatable(Ports()), doc="Destination ports (tcp, udp...)."),
        Prop("any-port", Negatable(Ports()), doc="Source or destination port."),
        Prop("in-interface", Negatable(Ref("interface")), doc="Interface the packet came in by (! negates)."),
        Prop("out-interface", Negatable(Ref("interface")), doc="Interface the packet leaves by (! negates)."),
        Prop("in-interface-list", Negatable(Ref("/interface/list")), doc="List the in-interface belongs to."),
        Prop("out-interface-list", Negatable(Ref("/interface/list")), doc="List the out-interface belongs to."),
        Prop("packet-mark", Negatable(Str(max_len=63)), doc="Packet mark set by mangle."),
        Prop("connection-mark", Negatable(Str(max_len=63)), doc="Connection mark set by mangle."),
        Prop("routing-mark", Negatable(Str(max_len=63)), doc="Routing mark set by mangle."),
        Prop("connection-type", Negatable(Enum("ftp", "h323", "irc", "pptp", "quake3", "sip", "tftp")),
             doc="Connection helper that recognised the connection."),
        Prop("connection-state", Negatable(Flags(*CONNECTION_STATES)),
             doc="Connection tracking state: established, related, new, invalid, untracked."),
        Prop("connection-nat-state", Negatable(Flags("srcnat", "dstnat")), doc="NAT done on the connection."),
        Prop("src-address-list", Negatable(Str(max_len=63)), tab="Advanced",
             doc="Address list the source address is in."),
        Prop("dst-address-list", Negatable(Str(max_len=63)), tab="Advanced",
             doc="Address list the destination address is in."),
        Prop("tcp-flags", Str(max_len=100, pattern=r"!?[a-z]+(,!?[a-z]+)*", what="tcp flags (syn,!ack,...)"),
             tab="Advanced", doc="TCP flags: syn, ack, fin, rst, psh, urg, ece, cwr (! negates)."),
        Prop("icmp-options", Str(max_len=20, pattern=r"\d{1,3}(:\d{1,3}(-\d{1,3})?)?", what="type[:code]"),
             tab="Advanced", doc="ICMP type and code (3:3)."),
        Prop("content", Str(max_len=255), tab="Advanced", doc="Text the packet must contain."),
        Prop("packet-size", Str(max_len=20, pattern=r"\d{1,5}(-\d{1,5})?", what="size or range (0..65535)"),
             tab="Advanced", doc="Packet size or range in bytes."),
        Prop("ttl", Str(max_len=20, pattern=r"(equal|greater-than|less-than|not-equal):\d{1,3}",
                        what="equal|greater-than|less-than|not-equal:N"),
             tab="Advanced", doc="Time to live of the packet."),
    ]


def _actions(actions, extra):
    return [
        Prop("action", Enum(*actions), default="accept", tab="Action", doc="What to do with a matching packet."),
        Prop("jump-target", Str(max_len=255, pattern=r"[A-Za-z0-9_.\-]+", what="a chain name"), tab="Action",
             doc="Chain to continue in (action=jump)."),
    ] + extra + [
        Prop("address-list", Str(max_len=63), tab="Action", doc="Address list to add to (add-*-to-address-list)."),
        Prop("address-list-timeout", Duration(0, words=("none-dynamic", "none-static")), default="none-dynamic",
             tab="Action", doc="How long the address stays in the list."),
        Prop("log", Bool(), default=False, tab="Action", doc="Write matching packets to the log."),
        Prop("log-prefix", Str(max_len=60), default="", tab="Action", doc="Text logged before the packet."),
    ]


def _statistics():
    return [
        Prop("bytes", Int(0), readonly=True, tab="Statistics", doc="Bytes that matched the rule."),
        Prop("packets", Int(0), readonly=True, tab="Statistics", doc="Packets that matched the rule."),
    ]


RULE_FLAGS = [FLAG_DISABLED, FLAG_INVALID, FLAG_DYNAMIC]
RULE_COLUMNS = ["action", "chain", "src-address", "dst-address", "protocol", "src-port", "dst-port",
                "in-interface", "out-interface", "bytes", "packets"]

menu("/ip/firewall/filter", [
    Prop("chain", Chain(FILTER_CHAINS), required=True, doc="Chain of the rule: input, forward, output or custom."),
] + _matchers() + _actions(FILTER_ACTIONS, [
    Prop("reject-with", Enum("icmp-admin-prohibited", "icmp-host-prohibited", "icmp-host-unreachable",
                             "icmp-net-prohibited", "icmp-network-unreachable", "icmp-port-unreachable",
                             "icmp-protocol-unreachable", "tcp-reset"),
         tab="Action", doc="ICMP error or TCP reset sent back (action=reject)."),
]) + [disabled_prop(False), comment_prop()] + _statistics(),
    ordered=True, validate=_validate_rule, title="Firewall Filter Rules", group="IP",
    columns=RULE_COLUMNS, flags=RULE_FLAGS, doc="Packet filter rules, matched in order.")

menu("/ip/firewall/nat", [
    Prop("chain", Chain(NAT_CHAINS), required=True, doc="Chain of the rule: srcnat, dstnat or custom."),
] + _matchers() + _actions(NAT_ACTIONS, [
    Prop("to-addresses", AddressMatch(), tab="Action", doc="New address or range (dst-nat, src-nat, netmap)."),
    Prop("to-ports", Ports(), tab="Action", doc="New port or range (tcp/udp)."),
]) + [disabled_prop(False), comment_prop()] + _statistics(),
    ordered=True, validate=_validate_rule, title="Firewall NAT", group="IP",
    columns=RULE_COLUMNS, flags=RULE_FLAGS, doc="Address translation rules, matched in order.")
