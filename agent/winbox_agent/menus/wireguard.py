"""/interface wireguard and /interface wireguard peers.

A new interface gets a real X25519 key pair (see :mod:`winbox_agent.wgkeys`)
unless ``private-key`` is given; ``public-key`` is always computed from the
private key, so the document's printed pairs come out exactly.  The private
key is a secret: ``print`` shows it with ``show-sensitive`` only.
"""

import ipaddress

from .. import wgkeys
from ..errors import RouterError
from ..schema import (FLAG_DISABLED, FLAG_DYNAMIC, FLAG_RUNNING, Command, Prop, comment_prop, disabled_prop,
                      menu, running_prop)
from ..types import Bool, Duration, Host, Int, Interface, IPAny, Key, ListOf, Name, OneOf, Prefix, Ref, Str
from .interfaces import traffic_props

FIRST_PORT = 13231


class KeyOrWord(Key):
    """A base64 key, or ``auto`` (generate one now) or ``none``."""

    def __init__(self, generate, words=("auto", "none")):
        super().__init__()
        self.generate = generate
        self.words = tuple(words)

    def parse(self, text, ctx=None):
        t = text.strip()
        if t.lower() == "auto" and "auto" in self.words:
            return self.generate()
        if t.lower() == "none" and "none" in self.words:
            return "none"
        return super().parse(text, ctx)

    def allowed(self):
        return " | ".join(self.words) + " | base64 key (32 bytes)"


def _free_port(router, item):
    """The first listen port from 13231 up that no other WireGuard interface uses."""
    used = {it.get("listen-port") for it in router.store.items("/interface/wireguard")}
    port = FIRST_PORT
    while port in used:
        port += 1
    return port


def _new_private_key(router, item):
    return wgkeys.generate_private()


def _wg_derive(router, view):
    key = view.get("private-key")
    if not key:
        return {}
    try:
        return {"public-key": wgkeys.public_key(key)}
    except ValueError:
        return {}


def _wg_validate(router, view):
    port = view.get("listen-port")
    for other in router.store.items("/interface/wireguard"):
        if other[".id"] != view[".id"] and other.get("listen-port") == port:
            raise RouterError("listen-port: %s is already used by %s" % (port, other.get("name")),
                              "conflict", "listen-port")


WG_IMPORT_ARGS = [
    Prop("config-string", Str(), doc="A wg-quick configuration ([Interface] and [Peer] sections) as text."),
    Prop("file", Str(), doc="A file holding such a configuration."),
]

menu("/interface/wireguard", [
    Prop("name", Name(), doc="Name of the tunnel."),
    Prop("mtu", Int(0, 65536), default=1420, doc="Layer 3 maximum transmission unit."),
    Prop("listen-port", Int(1, 65535), default=_free_port,
         doc="UDP port for incoming sessions (13231, or the next free one)."),
    Prop("private-key", Key(), default=_new_private_key, secret=True,
         doc="A base64 private key; generated when the interface is added without one."),
    Prop("public-key", Key(), readonly=True, doc="The base64 public key, computed from the private key."),
    disabled_prop(False),
    comment_prop(),
    running_prop(),
] + traffic_props(), interface_type="wireguard", default_name="wireguard{n}", derive=_wg_derive,
    validate=_wg_validate, title="WireGuard", group="WireGuard",
    columns=["name", "mtu", "listen-port", "public-key"], flags=[FLAG_DISABLED, FLAG_RUNNING],
    commands=[Command("wg-import", WG_IMPORT_ARGS,
                      doc="Add an interface, its addresses and peers from a wg-quick configuration "
                          "(config-string= or file=).")],
    doc="WireGuard tunnels.")


# -- peers ------------------------------------------------------------------------

def _peer_derive(router, view):
    """A peer given only ``private-key`` (client setup) gets its public key from it."""
    key = view.get("private-key")
    if view.get("public-key") or not key or key == "none":
        return {}
    try:
        return {"public-key": wgkeys.public_key(key)}
    except ValueError:
        return {}


def _overlap(a, b):
    na, nb = ipaddress.ip_network(a), ipaddress.ip_network(b)
    return na.version == nb.version and na.overlaps(nb)


def _peer_validate(router, view):
    if not view.get("public-key"):
        raise RouterError("public-key: must be set (or private-key, to compute it from)", "argument", "public-key")
    iface = view.get("interface")
    mine = view.get("allowed-address") or []
    for other in router.store.items("/interface/wireguard/peers"):
        if other[".id"] == view[".id"] or other.get("interface") != iface:
            continue
        other_key = other.get("public-key") or _peer_derive(router, other).get("public-key")
        if other_key == view.get("public-key"):
            raise RouterError("public-key: %s already has a peer with this key (%s)" % (
                router.name_of(iface), router.name_of(other[".id"])), "conflict", "public-key")
        for a in mine:
            for b in other.get("allowed-address") or []:
                if _overlap(a, b):
                    raise RouterError("allowed-address: %s overlaps %s of peer %s on %s" % (
                        a, b, router.name_of(other[".id"]), router.name_of(iface)), "conflict", "allowed-address")


def client_config(router, peer):
    """The wg-quick configuration a client of ``peer`` needs (show-client-config)."""
    iface = router.store.get(peer.get("interface")) or {}
    iface_view = router.view(router.menu("/interface/wireguard"), iface, runtime=False) if iface else {}
    lines = ["[Interface]"]
    key = peer.get("private-key")
    lines.append("PrivateKey = %s" % (key if key and key != "none" else "<client's private key>"))
    if peer.get("client-address"):
        lines.append("Address = %s" % ", ".join(peer["client-address"]))
    if peer.get("client-dns"):
        lines.append("DNS = %s" % ", ".join(peer["client-dns"]))
    if peer.get("client-listen-port"):
        lines.append("ListenPort = %s" % peer["client-listen-port"])
    lines += ["", "[Peer]", "PublicKey = %s" % iface_view.get("public-key", "")]
    if peer.get("preshared-key") and peer["preshared-key"] != "none":
        lines.append("PresharedKey = %s" % peer["preshared-key"])
    lines.append("AllowedIPs = 0.0.0.0/0, ::/0")
    if peer.get("client-endpoint"):
        endpoint = peer["client-endpoint"]
        if ":" not in endpoint.rsplit("]", 1)[-1]:
            endpoint = "%s:%s" % (endpoint, iface_view.get("listen-port", FIRST_PORT))
        lines.append("Endpoint = %s" % endpoint)
    if peer.get("client-keepalive"):
        lines.append("PersistentKeepalive = %s" % peer["client-keepalive"])
    return "\n".join(lines) + "\n"


ADDRESS_WITH_LENGTH = OneOf(Interface(4), Interface(6))

menu("/interface/wireguard/peers", [
    Prop("name", Name(), doc="Name of the peer, used in logs (RouterOS 7.15+)."),
    Prop("interface", Ref("/interface/wireguard"), required=True, doc="The WireGuard interface of the peer."),
    Prop("public-key", Key(), doc="The remote side's base64 public key."),
    Prop("private-key", KeyOrWord(wgkeys.generate_private), default="none", secret=True, tab="Client",
         doc="A base64 private key for the client (auto generates one); none when the client keeps its own."),
    Prop("preshared-key", KeyOrWord(wgkeys.generate_preshared), default="none", secret=True,
         doc="Optional base64 preshared key mixed into the handshake (auto generates one)."),
    Prop("allowed-address", ListOf(Prefix(None)),
         doc="Networks (IPv4 or IPv6) this peer may send from and that are routed to it."),
    Prop("endpoint-address", Host(), doc="Address or host name of the peer."),
    Prop("endpoint-port", Int(0, 65535), doc="UDP port the peer listens on."),
    Prop("persistent-keepalive", Duration(0, 65535), default=0,
         doc="Interval of keepalive packets that keep NAT mappings open (0: off)."),
    Prop("responder", Bool(), default=False, doc="Only answer; never initiate the connection."),
    Prop("client-address", ListOf(ADDRESS_WITH_LENGTH), tab="Client",
         doc="Address of the client's interface (for show-client-config)."),
    Prop("client-dns", ListOf(IPAny()), tab="Client", doc="DNS servers the client should use."),
    Prop("client-endpoint", Str(max_len=255), tab="Client", doc="Address[:port] the client connects to."),
    Prop("client-keepalive", Duration(0, 65535), default=0, tab="Client", doc="Keepalive on the client side."),
    Prop("client-listen-port", Int(0, 65535), tab="Client", doc="The client's own listen port."),
    disabled_prop(False),
    comment_prop(),
    Prop("current-endpoint-address", IPAny(), readonly=True, tab="Status",
         doc="Source address of the last authenticated packet from the peer."),
    Prop("current-endpoint-port", Int(0, 65535), readonly=True, tab="Status",
         doc="Source port of the last authenticated packet from the peer."),
    Prop("last-handshake", Duration(0), readonly=True, tab="Status", doc="Time since the last handshake."),
    Prop("rx", Int(0), readonly=True, tab="Status", doc="Bytes received from the peer."),
    Prop("tx", Int(0), readonly=True, tab="Status", doc="Bytes sent to the peer."),
], default_name="peer{n}", derive=_peer_derive, validate=_peer_validate, title="WireGuard Peers",
    group="WireGuard",
    columns=["name", "interface", "endpoint-address", "endpoint-port", "allowed-address", "last-handshake",
             "rx", "tx"],
    flags=[FLAG_DISABLED, FLAG_DYNAMIC],
    commands=[Command("show-client-config", item=True,
                      doc="The configuration (wg-quick format) to give the client of this peer.")],
    doc="Remote ends of WireGuard tunnels.")



# -- wg-import ------------------------------------------------------------------------

INTERFACE_KEYS = {"privatekey": "private-key", "listenport": "listen-port", "mtu": "mtu", "address": "address",
                  "dns": None, "table": None, "preup": None, "postup": None, "predown": None, "postdown": None,
                  "saveconfig": None, "fwmark": None}
PEER_KEYS = {"publickey": "public-key", "presharedkey": "preshared-key", "allowedips": "allowed-address",
             "endpoint": "endpoint", "persistentkeepalive": "persistent-keepalive"}


def parse_wg_config(text, what="config-string"):
    """A wg-quick configuration as ``(interface values, [peer values])`` of
    RouterOS property texts; ``address`` lists the interface's addresses."""
    iface, peers, section = {}, [], None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
            if section == "peer":
                peers.append({})
            elif section != "interface":
                raise RouterError("%s: line %d: unknown section [%s] (Interface or Peer)" % (what, number, section),
                                  "argument", what)
            continue
        key, eq, value = line.partition("=")
        if not eq or section is None:
            # the line is not repeated: it may hold a key
            raise RouterError("%s: line %d: expected Key = Value inside [Interface] or [Peer]"
                              % (what, number), "argument", what)
        key, value = key.strip().lower(), ",".join(v.strip() for v in value.split(",") if v.strip())
        table = INTERFACE_KEYS if section == "interface" else PEER_KEYS
        if key not in table:
            raise RouterError("%s: line %d: unknown key %s in [%s]" % (what, number, key, section.title()),
                              "argument", what)
        name = table[key]
        if name is None:
            continue
        target = iface if section == "interface" else peers[-1]
        if name == "endpoint":
            host, port = _split_endpoint(value, what, number)
            target["endpoint-address"] = host
            if port:
                target["endpoint-port"] = port
        else:
            target[name] = value
    if "private-key" not in iface:
        raise RouterError("%s: the [Interface] section needs a PrivateKey" % what, "argument", what)
    return iface, peers


def _split_endpoint(value, what, number):
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, rest.lstrip(":")
    if value.count(":") == 1:
        host, _, port = value.partition(":")
        return host, port
    if ":" in value:  # a bare IPv6 address
        return value, ""
    return value, ""


def wg_import(router, text, what="config-string", session=""):
    """Add what a wg-quick configuration describes: the interface, its
    addresses and its peers.  All or nothing: on an error, what was added is
    removed again and the error names the offending property."""
    iface, peers = parse_wg_config(text, what)
    addresses = [a for a in (iface.pop("address", "") or "").split(",") if a]
    added = []
    try:
        iid = router.add("/interface/wireguard", iface, session=session)
        added.append(("/interface/wireguard", iid))
        name = router.name_of(iid)
        for a in addresses:
            path = "/ip/address" if ":" not in a else "/ipv6/address"
            if path in router.schema:
                added.append((path, router.add(path, {"address": a, "interface": name}, session=session)))
        for peer in peers:
            added.append(("/interface/wireguard/peers",
                          router.add("/interface/wireguard/peers", dict(peer, interface=name), session=session)))
    except RouterError:
        for path, item_id in reversed(added):
            router.remove(path, [item_id], session=session)
        raise
    return {"interface": name, "addresses": ",".join(addresses), "peers": str(len(peers))}
