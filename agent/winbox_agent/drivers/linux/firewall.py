"""/ip firewall filter and nat as one nftables table the agent owns.

The agent generates the whole ``table ip winbox`` from the configuration
and replaces it in one transaction (``nft -j -f``: add, delete, add again,
so it is atomic and works whether the table existed or not).  Nothing else
in the ruleset is touched.  The table is written in nftables' JSON syntax,
so names and prefixes from the configuration are data, never nft syntax.

Chains: ``input``, ``forward``, ``output`` (filter, hooked with policy
accept), ``srcnat`` (postrouting) and ``dstnat`` (prerouting), plus one
regular chain per custom chain name (filter ``f_NAME``, nat ``n_NAME``,
escaped).  Every rule carries a counter and the item's id as its comment;
``bytes`` and ``packets`` are read back from them.  A rule asking for a
matcher or action nftables cannot do here is left out of the table and
flagged invalid with the reason.
"""

import hashlib
import ipaddress
import json
import re
from typing import Any, Dict, List, Optional, Tuple

from .area import Area, Pass

FAMILY = "ip"
TABLE = "winbox"
FILTER = "/ip/firewall/filter"
NAT = "/ip/firewall/nat"
BASE_CHAINS = {
    FILTER: {"input": ("filter", "input", 0), "forward": ("filter", "forward", 0),
             "output": ("filter", "output", 0)},
    NAT: {"srcnat": ("nat", "postrouting", 100), "dstnat": ("nat", "prerouting", -100)},
}
PROTOCOL_NUMBERS = {
    "icmp": 1, "igmp": 2, "ggp": 3, "ip-encap": 4, "st": 5, "tcp": 6, "egp": 8, "pup": 12, "udp": 17,
    "hmp": 20, "xns-idp": 22, "rdp": 27, "iso-tp4": 29, "dccp": 33, "xtp": 36, "ddp": 37, "idpr-cmtp": 38,
    "ipv6": 41, "rsvp": 46, "gre": 47, "ipsec-esp": 50, "ipsec-ah": 51, "icmpv6": 58, "rspf": 73,
    "ospf": 89, "ipip": 94, "etherip": 97, "encap": 98, "pim": 103, "vrrp": 112, "l2tp": 115, "sctp": 132,
    "udp-lite": 136,
}
REJECT_ICMP = {
    "icmp-network-unreachable": "net-unreachable", "icmp-host-unreachable": "host-unreachable",
    "icmp-port-unreachable": "port-unreachable", "icmp-protocol-unreachable": "prot-unreachable",
    "icmp-net-prohibited": "net-prohibited", "icmp-host-prohibited": "host-prohibited",
    "icmp-admin-prohibited": "admin-prohibited",
}
TCP_FLAGS = ("fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr")
UNSUPPORTED_MATCHERS = ("any-port", "src-address-list", "dst-address-list", "packet-mark", "connection-mark",
                        "routing-mark", "connection-type", "content")


class Unsupported(Exception):
    """A rule asks for something this driver cannot express in nftables."""


def chain_name(path: str, chain: str) -> str:
    """The nft chain of a RouterOS chain: built-in ones keep their name."""
    if chain in BASE_CHAINS[path]:
        return chain
    escaped = re.sub(r"[^A-Za-z0-9]", lambda m: "_%02x" % ord(m.group()), chain)
    return ("f_" if path == FILTER else "n_") + escaped


def _neg(value: Any) -> Tuple[bool, Any]:
    if isinstance(value, list) and value and value[0] == "!":
        return True, value[1]
    return False, value


def _match(left: Any, right: Any, negated: bool = False, op: str = "==") -> Dict[str, Any]:
    return {"match": {"op": "!=" if negated else op, "left": left, "right": right}}


def _address(value: str) -> Any:
    if "-" in value:
        lo, hi = value.split("-", 1)
        return {"range": [lo, hi]}
    if "/" in value:
        net = ipaddress.IPv4Network(value, strict=False)
        if net.prefixlen == 32:
            return str(net.network_address)
        return {"prefix": {"addr": str(net.network_address), "len": net.prefixlen}}
    return value


def _nat_address(value: str) -> Any:
    """An address to translate to: an address or a range (a prefix becomes its range)."""
    if "/" in value:
        net = ipaddress.IPv4Network(value, strict=False)
        if net.prefixlen == 32:
            return str(net.network_address)
        return {"range": [str(net.network_address), str(net.broadcast_address)]}
    return _address(value)


def _ports(value: str) -> Any:
    parts = []
    for part in str(value).split(","):
        if "-" in part:
            lo, hi = part.split("-", 1)
            parts.append({"range": [int(lo), int(hi)]})
        else:
            parts.append(int(part))
    return parts[0] if len(parts) == 1 else {"set": parts}


def _one_port(value: str) -> Any:
    if "," in str(value):
        raise Unsupported("to-ports: nftables translates to one port or one range, not a list")
    return _ports(value)


class Firewall(Area):
    """Filter and NAT rules in ``table ip winbox``; counters read back."""

    key = "firewall"
    paths = (FILTER, NAT)

    # -- generating --------------------------------------------------------------------
    def _rule(self, p: Pass, path: str, view: Dict[str, Any]) -> List[Dict[str, Any]]:
        exprs: List[Dict[str, Any]] = []
        for prop in UNSUPPORTED_MATCHERS:
            if view.get(prop) not in (None, "", []):
                raise Unsupported("%s is not supported by the linux driver" % prop)
        neg, proto = _neg(view.get("protocol"))
        proto_num = PROTOCOL_NUMBERS.get(proto, proto) if proto is not None else None
        if proto_num is not None:
            exprs.append(_match({"meta": {"key": "l4proto"}}, int(proto_num), neg))
        for prop, field in (("src-address", "saddr"), ("dst-address", "daddr")):
            neg, value = _neg(view.get(prop))
            if value:
                exprs.append(_match({"payload": {"protocol": "ip", "field": field}}, _address(value), neg))
        for prop, field in (("src-port", "sport"), ("dst-port", "dport")):
            neg, value = _neg(view.get(prop))
            if value:
                exprs.append(_match({"payload": {"protocol": "th", "field": field}}, _ports(value), neg))
        for prop, key in (("in-interface", "iifname"), ("out-interface", "oifname")):
            neg, value = _neg(view.get(prop))
            if value:
                name = p.snap.ifname(value)
                if not name:
                    raise Unsupported("%s: interface %s does not exist" % (prop, value))
                exprs.append(_match({"meta": {"key": key}}, name, neg))
        for prop, key in (("in-interface-list", "iifname"), ("out-interface-list", "oifname")):
            neg, value = _neg(view.get(prop))
            if value:
                names = p.snap.list_members(value)
                if not names:
                    if neg:
                        continue
                    return []        # an empty list matches nothing
                exprs.append(_match({"meta": {"key": key}}, {"set": names}, neg))
        neg, states = _neg(view.get("connection-state"))
        if states:
            exprs.append(_match({"ct": {"key": "state"}}, {"set": list(states)}, neg))
        neg, nat_states = _neg(view.get("connection-nat-state"))
        if nat_states:
            bits = ["snat" if s == "srcnat" else "dnat" for s in nat_states]
            if neg:
                exprs.append(_match({"&": [{"ct": {"key": "status"}}, bits]}, 0))
            else:
                exprs.append(_match({"ct": {"key": "status"}}, bits, op="in"))
        exprs.extend(self._advanced(view, proto))
        exprs.append({"counter": None})
        if view.get("log") or view.get("action") == "log":
            prefix = view.get("log-prefix") or ""
            exprs.append({"log": {"prefix": prefix}} if prefix else {"log": None})
        exprs.extend(self._action(path, view, proto))
        return exprs

    @staticmethod
    def _advanced(view: Dict[str, Any], proto: Any) -> List[Dict[str, Any]]:
        out = []
        flags = view.get("tcp-flags")
        if flags:
            if proto not in ("tcp", 6):
                raise Unsupported("tcp-flags: matching TCP flags needs protocol=tcp")
            want, mask = [], []
            for f in flags.split(","):
                name = f.lstrip("!")
                if name not in TCP_FLAGS:
                    raise Unsupported("tcp-flags: %s is not a TCP flag (%s)" % (name, ", ".join(TCP_FLAGS)))
                mask.append(name)
                if not f.startswith("!"):
                    want.append(name)
            out.append(_match({"&": [{"payload": {"protocol": "tcp", "field": "flags"}}, mask]},
                              want if want else 0))
        icmp = view.get("icmp-options")
        if icmp:
            if proto not in ("icmp", 1):
                raise Unsupported("icmp-options: matching ICMP type needs protocol=icmp")
            typ, _, code = icmp.partition(":")
            out.append(_match({"payload": {"protocol": "icmp", "field": "type"}}, int(typ)))
            if code:
                lo, _, hi = code.partition("-")
                out.append(_match({"payload": {"protocol": "icmp", "field": "code"}},
                                  {"range": [int(lo), int(hi)]} if hi else int(lo)))
        size = view.get("packet-size")
        if size:
            lo, _, hi = size.partition("-")
            out.append(_match({"meta": {"key": "length"}}, {"range": [int(lo), int(hi)]} if hi else int(lo)))
        ttl = view.get("ttl")
        if ttl:
            how, _, n = ttl.partition(":")
            op = {"equal": "==", "not-equal": "!=", "greater-than": ">", "less-than": "<"}[how]
            out.append(_match({"payload": {"protocol": "ip", "field": "ttl"}}, int(n), op=op))
        return out

    def _action(self, path: str, view: Dict[str, Any], proto: Any) -> List[Dict[str, Any]]:
        action = view.get("action") or "accept"
        if action in ("accept", "drop"):
            return [{action: None}]
        if action == "return":
            return [{"return": None}]
        if action in ("passthrough", "log"):
            return []
        if action == "jump":
            return [{"jump": {"target": chain_name(path, view["jump-target"])}}]
        if action == "reject":
            how = view.get("reject-with") or "icmp-network-unreachable"
            if how == "tcp-reset":
                if proto not in (None, "tcp", 6):
                    raise Unsupported("reject-with: tcp-reset answers TCP only, and this rule matches %s" % proto)
                pre = [] if proto in ("tcp", 6) else [_match({"meta": {"key": "l4proto"}}, 6)]
                return pre + [{"reject": {"type": "tcp reset"}}]
            return [{"reject": {"type": "icmp", "expr": REJECT_ICMP[how]}}]
        if action == "masquerade":
            if view.get("to-ports"):
                return [{"masquerade": {"port": _one_port(view["to-ports"])}}]
            return [{"masquerade": None}]
        if action in ("src-nat", "dst-nat"):
            if not view.get("to-addresses"):
                raise Unsupported("%s without to-addresses is not supported by the linux driver" % action)
            stmt: Dict[str, Any] = {"addr": _nat_address(view["to-addresses"])}
            if view.get("to-ports"):
                stmt["port"] = _one_port(view["to-ports"])
            return [{"snat" if action == "src-nat" else "dnat": stmt}]
        if action == "redirect":
            return [{"redirect": {"port": _one_port(view["to-ports"])} if view.get("to-ports") else None}]
        raise Unsupported("action=%s is not supported by the linux driver" % action)

    def ruleset(self, p: Pass) -> Optional[List[Dict[str, Any]]]:
        """The nft JSON commands that replace the agent's table (None: no rules, no table)."""
        table = {"family": FAMILY, "name": TABLE}
        chains: Dict[str, Dict[str, Any]] = {}
        rules: List[Dict[str, Any]] = []
        for path in (FILTER, NAT):
            for view in p.snap.enabled(path):
                chain = chain_name(path, view.get("chain") or "")
                try:
                    exprs = self._rule(p, path, view)
                except Unsupported as exc:
                    p.problem(view[".id"], str(exc))
                    continue
                if not exprs:
                    continue
                chains.setdefault(chain, {"path": path})
                if view.get("action") == "jump":
                    chains.setdefault(chain_name(path, view["jump-target"]), {"path": path})
                rules.append({"family": FAMILY, "table": TABLE, "chain": chain, "expr": exprs,
                              "comment": view[".id"]})
        if not rules:
            return None
        cmds: List[Dict[str, Any]] = [{"add": {"table": table}}, {"delete": {"table": table}},
                                      {"add": {"table": table}}]
        for path in (FILTER, NAT):
            for name, (typ, hook, prio) in BASE_CHAINS[path].items():
                cmds.append({"add": {"chain": {"family": FAMILY, "table": TABLE, "name": name, "type": typ,
                                               "hook": hook, "prio": prio, "policy": "accept"}}})
        for name in chains:
            if not any(name in BASE_CHAINS[path] for path in BASE_CHAINS):
                cmds.append({"add": {"chain": {"family": FAMILY, "table": TABLE, "name": name}}})
        cmds.extend({"add": {"rule": r}} for r in rules)
        return cmds

    # -- applying --------------------------------------------------------------------------
    def _exists(self) -> bool:
        res = self.host.try_run(["nft", "list", "table", FAMILY, TABLE])
        return res.code == 0

    def _load(self, cmds: List[Dict[str, Any]]) -> None:
        self.host.run(["nft", "-j", "-f", "/dev/stdin"], input=json.dumps({"nftables": cmds}))

    def _drop(self) -> None:
        if self._exists():
            self.host.run(["nft", "delete", "table", FAMILY, TABLE])

    def reconcile(self, p: Pass) -> None:
        cmds = self.ruleset(p)
        text = json.dumps(cmds, sort_keys=True) if cmds is not None else ""
        digest = hashlib.sha256(text.encode()).hexdigest() if cmds is not None else ""
        ledger = self.ledger
        if self.host.which("nft") is None:
            if cmds is not None:
                for path in (FILTER, NAT):
                    for view in p.snap.enabled(path):
                        p.problem(view[".id"], "the host has no nft command (Debian package nftables): "
                                               "firewall rules are not applied")
            return
        exists = self._exists()
        if ledger.get("digest", "") == digest and exists == (cmds is not None):
            return
        old = ledger.get("cmds")
        if cmds is None:
            if exists and ledger.get("digest"):
                p.journal.call("nft delete table", self._drop,
                               (lambda: self._load(old)) if old else None)
        else:
            p.journal.call("nft -f (table %s %s)" % (FAMILY, TABLE), lambda: self._load(cmds),
                           (lambda: self._load(old)) if old and exists else self._drop)
        ledger["digest"] = digest
        ledger["cmds"] = cmds

    # -- reading ------------------------------------------------------------------------------
    def counters(self) -> Dict[str, Tuple[int, int]]:
        """Bytes and packets of every rule, by item id."""
        return self.system.cached("nft-counters", self._read_counters)

    def _read_counters(self) -> Dict[str, Tuple[int, int]]:
        out: Dict[str, Tuple[int, int]] = {}
        if not self.ledger.get("digest") or self.host.which("nft") is None:
            return out
        res = self.host.try_run(["nft", "-j", "list", "table", FAMILY, TABLE])
        if res.code != 0:
            return out
        try:
            data = json.loads(res.out)
        except ValueError:
            return out
        for obj in data.get("nftables", []):
            rule = obj.get("rule")
            if not rule or not rule.get("comment"):
                continue
            for e in rule.get("expr", []):
                c = e.get("counter") if isinstance(e, dict) else None
                if isinstance(c, dict):
                    out[rule["comment"]] = (int(c.get("bytes", 0)), int(c.get("packets", 0)))
        return out

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        b, n = self.counters().get(view[".id"], (0, 0))
        return {"bytes": b, "packets": n}
