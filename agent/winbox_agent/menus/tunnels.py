"""PPP tunnel interfaces and their servers: PPPoE, L2TP (and L2TP Ether),
OpenVPN, PPTP and SSTP, from document 004's property tables.

Where a table and an example print disagree, the table wins and the Prop's
doc says so (the examples were printed by older RouterOS versions).  Dialog
tabs follow WinBox: the interface's own settings on General, how it dials
on Dial Out, live values (from the driver) on Status.
"""

import hashlib

from ..errors import RouterError
from ..schema import (FLAG_DISABLED, FLAG_DYNAMIC, FLAG_INVALID, FLAG_RUNNING, Command, Prop, comment_prop,
                      disabled_prop, menu, running_prop)
from ..types import Bool, Duration, Enum, Flags, Host, Int, IPAny, IPv4, IPv6, Mac, Name, Ref, Str
from .ppp import PROFILE_REF

AUTH_CLIENT = ("mschap2", "mschap1", "chap", "pap")
AUTH_SERVER = ("pap", "chap", "mschap1", "mschap2")
#: Interface types of PPP tunnels: a PPPoE client cannot run over them.
PPP_TYPES = ("pppoe-out", "l2tp-out", "pptp-out", "sstp-out", "ovpn-out",
             "pppoe-in", "l2tp-in", "pptp-in", "sstp-in", "ovpn-in")
DIAL = "Dial Out"


# -- property builders shared by the tunnels ---------------------------------------------------

def _link_props(mtu_default, words=(), note=""):
    """max-mtu, max-mru and mrru of a PPP link."""
    return [
        Prop("max-mtu", Int(64, 65535, words=words), default=mtu_default,
             doc="Maximum Transmission Unit: the largest packet sent without fragmentation." + note),
        Prop("max-mru", Int(64, 65535, words=words), default=mtu_default,
             doc="Maximum Receive Unit: the largest packet received without fragmentation." + note),
        Prop("mrru", Int(512, 65535, words=("disabled",)), default="disabled",
             doc="Largest packet received over the link as a whole (multilink); larger ones are split."),
    ]


def _user_props(user_len=None, password_len=1000):
    return [
        Prop("user", Str(max_len=user_len), default="", tab=DIAL, doc="User name used for authentication."),
        Prop("password", Str(max_len=password_len), default="", secret=True, tab=DIAL,
             doc="Password used for authentication."),
    ]


def _keepalive(default, lo=0, words=(), doc="Keepalive timeout in seconds."):
    return Prop("keepalive-timeout", Int(lo, 4294967295, words=words), default=default, tab=DIAL, doc=doc)


def _route_props(distance_default=1, doc_extra=""):
    return [
        Prop("add-default-route", Bool(), default=False, tab=DIAL,
             doc="Add a default route through the tunnel's remote address."),
        Prop("default-route-distance", Int(0, 255), default=distance_default, tab=DIAL,
             doc="Distance of the automatic default route." + doc_extra),
        Prop("dial-on-demand", Bool(), default=False, tab=DIAL,
             doc="Connect only when outbound traffic is generated."),
    ]


def _status_props(pppoe=False):
    props = [
        running_prop(),
        Prop("status", Str(), readonly=True, tab="Status",
             doc="Link status: dialing, verifying password..., connected or disconnected."),
        Prop("uptime", Duration(), readonly=True, tab="Status", doc="How long the link has been connected."),
        Prop("encoding", Str(), readonly=True, tab="Status", doc="Encryption and encoding of the link."),
        Prop("local-address", IPv4(), readonly=True, tab="Status", doc="Address the server gave this end."),
        Prop("remote-address", IPv4(), readonly=True, tab="Status", doc="Address of the server's end."),
    ]
    if pppoe:
        props.append(Prop("ac-mac", Mac(), readonly=True, tab="Status",
                          doc="MAC address of the access concentrator connected to."))
    return props


def _generated_mac(router, item):
    """A stable locally administered MAC for an interface being added."""
    digest = hashlib.sha256(("%s|mac|%s" % (router.seed or 0, router.store.next_id)).encode()).digest()
    return ":".join("%02X" % b for b in (0x02,) + tuple(digest[:5]))


_ONCE = Prop("once", Bool(), doc="Print one sample and stop.")
_INTERVAL = Prop("interval", Duration(), doc="Time between samples (default 1s).")
_DURATION = Prop("duration", Duration(), doc="Stop after this long.")


def _monitor(what):
    return Command("monitor", args=[_ONCE, _INTERVAL, _DURATION], item=True, stream=True,
                   doc="Live status of the %s: status, uptime, encoding, addresses, MTU." % what)


CLIENT_FLAGS = [FLAG_DISABLED, FLAG_RUNNING, FLAG_INVALID]
SERVER_FLAGS = [FLAG_DISABLED]


def _ppp_client(service, title, props, columns, commands=(), doc=None):
    """The /interface/<service>-client menu of a tunnel client: ``props``, then
    disabled (yes when added), comment and the link's status; its interfaces are
    <service>-out1, -out2..., monitored with ``monitor``."""
    return menu("/interface/%s-client" % service, [
        *props,
        disabled_prop(True),
        comment_prop(),
        *_status_props(),
    ], interface_type="%s-out" % service, default_name="%s-out{n}" % service, title="%s Client" % title,
        group="PPP", flags=CLIENT_FLAGS, columns=columns, commands=[_monitor("%s client" % title), *commands],
        doc=doc or "%s client interfaces (disabled by default)." % title)


def _ppp_server_basics(service):
    """enabled, authentication (mschap1, mschap2) and default-profile
    (default-encryption) of the /interface/<service>-server/server menu."""
    return [
        Prop("enabled", Bool(), default=False, doc="Whether the %s server is enabled." % service),
        Prop("authentication", Flags(*AUTH_SERVER), default=["mschap1", "mschap2"],
             doc="Authentication methods the server accepts."),
        Prop("default-profile", PROFILE_REF, default="default-encryption", doc="Profile for users without their own."),
    ]


def _interface_type(router, item_id):
    path = router.store.path_of(item_id)
    m = router.schema.get(path) if path else None
    return m.interface_type if m else None


# -- PPPoE -------------------------------------------------------------------------------------

def _pppoe_client_validate(router, view):
    for iface in view.get("interface") or []:
        if _interface_type(router, iface) in PPP_TYPES:
            raise RouterError("interface: %s is a PPP tunnel; a PPPoE client runs over an Ethernet-like interface"
                              % router.name_of(iface), "argument", "interface")
    if len(set(view.get("interface") or [])) != len(view.get("interface") or []):
        raise RouterError("interface: an interface is named twice", "argument", "interface")


menu("/interface/pppoe-client", [
    Prop("name", Name(), doc="Name of the interface (pppoe-out1, pppoe-out2... when not given)."),
    *_link_props(1460, words=("auto",),
                 note=" Table default 1460 (the Quick Example's print shows auto, also accepted)."),
    Prop("interface", Ref("interface", multiple=True), required=True,
         doc="Interface(s) the client runs on; several (ether1,ether2) bond them with MLPPP."),
    Prop("service-name", Str(max_len=64), default="", tab=DIAL,
         doc="Service name of the access concentrator; empty connects to any."),
    Prop("ac-name", Str(max_len=64), default="", tab=DIAL,
         doc="Access concentrator name; empty connects to any on the broadcast domain."),
    *_user_props(),
    Prop("profile", PROFILE_REF, default="default", tab=DIAL, doc="PPP profile used for the link."),
    _keepalive(60, doc="Keepalive timeout in seconds (table default 60; the Quick Example's print shows 10)."),
    *_route_props(1),
    Prop("use-peer-dns", Bool(), default=False, tab=DIAL, doc="Use the DNS servers the server offers."),
    Prop("allow", Flags(*AUTH_CLIENT), default=list(AUTH_CLIENT), tab=DIAL,
         doc="Authentication methods the client allows."),
    Prop("host-uniq", Str(max_len=64, pattern=r"(?:0x)?[0-9A-Fa-f]*", what="a hex string"), default="", tab=DIAL,
         doc="Host-Uniq tag sent in discovery packets (hex)."),
    Prop("disabled", Bool(), default=True,
         doc="Whether the interface is disabled (not in the table; added disabled, as the examples' disabled=no shows)."),
    comment_prop(),
    *_status_props(pppoe=True),
], interface_type="pppoe-out", default_name="pppoe-out{n}", validate=_pppoe_client_validate,
    title="PPPoE Client", group="PPP", flags=CLIENT_FLAGS,
    columns=["name", "interface", "user", "service-name", "status", "uptime"],
    commands=[
        _monitor("PPPoE client"),
        Command("scan", args=[Prop("interface", Ref("interface"), required=True,
                                   doc="Ethernet-like interface to look for access concentrators on."),
                              _DURATION],
                stream=True, doc="Access concentrators answering on an interface: service, mac-address, ac-name."),
    ],
    doc="PPPoE client interfaces (disabled by default).")

def _vlan_range_check(text):
    for part in [p for p in text.split(",") if p]:
        bounds = [int(x) for x in part.split("-")]
        if any(b < 1 or b > 4094 for b in bounds) or bounds != sorted(bounds):
            raise RouterError("pppoe-over-vlan-range: %s is out of range 1..4094" % part, "argument",
                              "pppoe-over-vlan-range")


menu("/interface/pppoe-server/server", [
    Prop("service-name", Str(max_len=64), default="", doc="Service name clients ask for; empty serves any."),
    Prop("interface", Ref("interface"), required=True, doc="Interface the clients are connected to."),
    *_link_props(1480, words=("auto",)),
    Prop("authentication", Flags(*AUTH_SERVER), default=list(AUTH_SERVER),
         doc="Authentication methods the server accepts."),
    _keepalive(10, doc="Seconds without traffic after which keepalives are sent; 0 never disconnects "
                       "(a time in the table, printed in seconds as the examples do)."),
    Prop("one-session-per-host", Bool(), default=False, doc="Allow only one session per client MAC address."),
    Prop("max-sessions", Int(0, 65535), default=0, doc="Most clients served at once; 0 means no limit."),
    Prop("default-profile", PROFILE_REF, default="default", doc="Profile for users without their own."),
    Prop("accept-untagged", Bool(), default=True,
         doc="Accept untagged PPPoE packets when pppoe-over-vlan-range is set."),
    Prop("pppoe-over-vlan-range", Str(pattern=r"(?:\d{1,4}(?:-\d{1,4})?(?:,\d{1,4}(?:-\d{1,4})?)*)?",
                                      what="VLAN ids or ranges 1..4094 (like 100-115,120)"), default="",
         doc="VLAN ids (1..4094) whose tagged PPPoE packets are accepted."),
    disabled_prop(True),
    comment_prop(),
], title="PPPoE Servers", group="PPP", flags=SERVER_FLAGS,
    columns=["service-name", "interface", "max-mtu", "max-mru", "mrru", "default-profile"],
    validate=lambda router, view: _vlan_range_check(view.get("pppoe-over-vlan-range") or ""),
    doc="PPPoE access concentrators: one per interface and service name (disabled until enabled, "
        "as the Quick Example's disabled=no shows).")


# -- L2TP --------------------------------------------------------------------------------------

_L2TPV3_COOKIE = Enum("0", "4-bytes", "8-bytes")
_DIGEST = Enum("md5", "none", "sha1")

_ppp_client("l2tp", "L2TP", [
    Prop("name", Name(), doc="Name of the interface."),
    *_link_props(1450),
    Prop("connect-to", Host(), required=True, tab=DIAL,
         doc="Address of the L2TP server (address@vrf when it is in a VRF)."),
    *_user_props(),
    Prop("profile", PROFILE_REF, default="default-encryption", tab=DIAL, doc="PPP profile used for the tunnel."),
    _keepalive(60, lo=1, doc="Keepalive timeout in seconds (1..4294967295)."),
    Prop("use-ipsec", Bool(), default=False, tab=DIAL,
         doc="Encapsulate the tunnel in IPsec with a dynamic peer and policy."),
    Prop("ipsec-secret", Str(max_len=255), default="", secret=True, tab=DIAL,
         doc="Pre-shared key used when use-ipsec is enabled."),
    Prop("allow-fast-path", Bool(), default=False, tab=DIAL,
         doc="Forward packets without extra processing (table default empty; prints show no)."),
    *_route_props(None, doc_extra=" Table default empty."),
    Prop("use-peer-dns", Enum("yes", "no", "exclusively"), default="no", tab=DIAL,
         doc="Use the DNS servers the server offers."),
    Prop("allow", Flags(*AUTH_CLIENT), default=list(AUTH_CLIENT), tab=DIAL, doc="Allowed authentication methods."),
    Prop("src-address", IPAny(), tab=DIAL, doc="Source address of the tunnel."),
    Prop("l2tp-proto-version", Enum("l2tpv2", "l2tpv3-ip", "l2tpv3-udp"), default="l2tpv2", tab="L2TPv3",
         doc="Protocol version."),
    Prop("l2tpv3-cookie-length", _L2TPV3_COOKIE, default="0", tab="L2TPv3",
         doc="L2TPv3 pseudowire static session cookie."),
    Prop("l2tpv3-digest-hash", _DIGEST, default="md5", tab="L2TPv3", doc="Hash function of L2TPv3."),
    Prop("l2tpv3-circuit-id", Str(max_len=64), default="", tab="L2TPv3",
         doc="Virtual circuit id binding one end of the L2TPv3 control channel."),
], columns=["name", "connect-to", "user", "profile", "status", "uptime"])

menu("/interface/l2tp-server/server", [
    *_ppp_server_basics("L2TP"),
    *_link_props(1450),
    _keepalive(30, doc="Seconds without packets after which keepalives are sent; five missed replies disconnect."),
    Prop("use-ipsec", Enum("no", "yes", "require"), default="no",
         doc="Add a dynamic IPsec peer; require: accept only IPsec-encapsulated tunnels."),
    Prop("ipsec-secret", Str(max_len=255), default="", secret=True, doc="Pre-shared key when use-ipsec is on."),
    Prop("accept-proto-version", Enum("all", "l2tpv2", "l2tpv3"), default="all",
         doc="Protocol versions accepted (cli-only in WinBox)."),
    Prop("accept-pseudowire-type", Enum("all", "ether", "ppp"), default="all", doc="Pseudowire types accepted."),
    Prop("allow-fast-path", Bool(), default=False, doc="Forward packets without extra processing."),
    Prop("caller-id-type", Enum("ip-address", "number"), default="ip-address",
         doc="number when several clients share a source address."),
    Prop("max-sessions", Int(0, 65535, words=("unlimited",)), default="unlimited", doc="Most sessions at once."),
    Prop("one-session-per-host", Bool(), default=False, doc="Allow one session per host."),
    Prop("l2tpv3-circuit-id", Str(max_len=64), default="", tab="L2TPv3", doc="L2TPv3 virtual circuit id."),
    Prop("l2tpv3-cookie-length", _L2TPV3_COOKIE, default="0", tab="L2TPv3", doc="L2TPv3 static session cookie."),
    Prop("l2tpv3-digest-hash", _DIGEST, default="md5", tab="L2TPv3", doc="Hash function of L2TPv3."),
    Prop("l2tpv3-ether-interface-list", Ref("/interface/list"), tab="L2TPv3",
         doc="Interface list L2TPv3 ether interfaces are added to."),
], single=True, title="L2TP Server", group="PPP", doc="The router's L2TP server.")

menu("/interface/l2tp-ether", [
    Prop("name", Name(), doc="Name of the interface."),
    Prop("connect-to", IPAny(), required=True, doc="Address of the remote end."),
    Prop("mtu", Int(64, 65535, words=("auto",)), default=1420, doc="Maximum Transmission Unit."),
    Prop("mac-address", Mac(), default=_generated_mac, doc="MAC address of the interface (generated when not given)."),
    Prop("local-address", IPAny(), doc="Local address (unmanaged mode)."),
    Prop("unmanaged-mode", Bool(), default=False,
         doc="Static tunnel: tunnel and session ids and cookies are set by hand."),
    Prop("local-tunnel-id", Int(0, 4294967295, words=("disabled",)), default="disabled", tab="Unmanaged",
         doc="Local tunnel id (unmanaged mode)."),
    Prop("local-session-id", Int(0, 4294967295, words=("disabled",)), default="disabled", tab="Unmanaged",
         doc="Local session id (unmanaged mode)."),
    Prop("remote-tunnel-id", Int(0, 4294967295, words=("disabled",)), default="disabled", tab="Unmanaged",
         doc="Remote tunnel id (unmanaged mode)."),
    Prop("remote-session-id", Int(0, 4294967295, words=("disabled",)), default="disabled", tab="Unmanaged",
         doc="Remote session id (unmanaged mode)."),
    Prop("peer-cookie", Str(pattern=r"disabled|[0-9A-Fa-f]{8}|[0-9A-Fa-f]{16}",
                            what="disabled or a hex string of 8 or 16 characters"), default="disabled",
         tab="Unmanaged", doc="Cookie expected from the peer."),
    Prop("send-cookie", Str(pattern=r"disabled|[0-9A-Fa-f]{8}|[0-9A-Fa-f]{16}",
                            what="disabled or a hex string of 8 or 16 characters"), default="disabled",
         tab="Unmanaged", doc="Cookie sent to the peer."),
    Prop("use-ipsec", Bool(), default=False, doc="Encapsulate the tunnel in IPsec."),
    Prop("ipsec-secret", Str(max_len=255), default="", secret=True, doc="Pre-shared key when use-ipsec is on."),
    Prop("allow-fast-path", Bool(), default=False, doc="Forward packets without extra processing."),
    Prop("l2tp-proto-version", Enum("l2tpv3-ip", "l2tpv3-udp"), default="l2tpv3-udp", doc="Protocol version."),
    Prop("cookie-length", _L2TPV3_COOKIE, default="0", doc="Pseudowire static session cookie length."),
    Prop("digest-hash", _DIGEST, default="md5", doc="Hash function."),
    Prop("use-l2-specific-sublayer", Bool(), default=False, doc="Use the L2-specific sublayer."),
    Prop("circuit-id", Str(max_len=64), default="", doc="Virtual circuit id of the pseudowire."),
    disabled_prop(True),
    comment_prop(),
    running_prop(),
], interface_type="l2tp-ether", default_name="l2tp-ether{n}", title="L2TP Ether", group="PPP",
    flags=[FLAG_DISABLED, FLAG_RUNNING], columns=["name", "connect-to", "mtu", "mac-address"],
    doc="L2TPv3 Ethernet pseudowires.")


# -- OpenVPN -----------------------------------------------------------------------------------

_OVPN_AUTH = ("md5", "sha1", "null", "sha256", "sha512")
_OVPN_CIPHERS = ("null", "aes128-cbc", "aes128-gcm", "aes192-cbc", "aes192-gcm", "aes256-cbc", "aes256-gcm",
                 "blowfish128")


_ppp_client("ovpn", "OVPN", [
    Prop("name", Name(), doc="Name of the interface."),
    Prop("mac-address", Mac(), default=_generated_mac, doc="MAC address (generated when not given)."),
    Prop("max-mtu", Int(64, 65535), default=1500, doc="Maximum Transmission Unit."),
    Prop("connect-to", Host(), required=True, tab=DIAL, doc="Address of the OVPN server."),
    Prop("port", Int(1, 65535), default=1194, tab=DIAL, doc="Port to connect to."),
    Prop("mode", Enum("ip", "ethernet"), default="ip", tab=DIAL, doc="Layer 3 (tun) or layer 2 (tap) tunnel."),
    Prop("protocol", Enum("tcp", "udp"), default="tcp", tab=DIAL, doc="Transport protocol."),
    *_user_props(user_len=27, password_len=1000),
    Prop("profile", PROFILE_REF, default="default", tab=DIAL, doc="PPP profile used for the tunnel."),
    Prop("certificate", Str(max_len=255), default="none", tab=DIAL, doc="Name of the client certificate, or none."),
    Prop("verify-server-certificate", Bool(), default=False, tab=DIAL,
         doc="Check the server certificate's CN or SAN against connect-to."),
    Prop("tls-version", Enum("any", "only-1.2"), default="any", tab=DIAL, doc="TLS versions allowed."),
    Prop("auth", Enum(*_OVPN_AUTH), default="sha1", tab=DIAL, doc="HMAC authentication of the data channel."),
    Prop("cipher", Enum(*_OVPN_CIPHERS), default="blowfish128", tab=DIAL,
         doc="Data channel cipher (GCM ciphers want auth=null)."),
    Prop("use-peer-dns", Bool(), default=False, tab=DIAL, doc="Use the DNS servers the server pushes."),
    Prop("add-default-route", Bool(), default=False, tab=DIAL, doc="Add a default route through the tunnel."),
    Prop("route-nopull", Bool(), default=False, tab=DIAL, doc="Ignore routes the server pushes."),
], columns=["name", "connect-to", "port", "user", "status", "uptime"],
    commands=[Command("import-ovpn-configuration", args=[
        Prop("file-name", Str(max_len=255), required=True, doc=".ovpn file (in the router's files, or a full path)."),
        Prop("ovpn-user", Str(max_len=27), doc="User name for the new interface."),
        Prop("ovpn-password", Str(max_len=1000), secret=True, doc="Password for the new interface."),
        Prop("key-passphrase", Str(max_len=1000), secret=True, doc="Passphrase of the file's private key."),
        Prop("skip-cert-import", Bool(), doc="Do not import the file's certificates."),
    ], doc="Add an OVPN client from an OpenVPN configuration file (remote, proto, dev, cipher, auth).")],
    doc="OpenVPN client interfaces (disabled by default).")

menu("/interface/ovpn-server/server", [
    Prop("name", Name(), doc="Name of the server (ovpn-server1, ... when not given)."),
    Prop("port", Int(1, 65535), default=1194, doc="Port the server listens on."),
    Prop("mode", Enum("ip", "ethernet"), default="ip", doc="Layer 3 (tun) or layer 2 (tap) tunnels."),
    Prop("protocol", Enum("tcp", "udp"), default="tcp", doc="Transport protocol."),
    Prop("netmask", Int(0, 32), default=24, doc="Subnet mask given to clients."),
    Prop("mac-address", Mac(), default=_generated_mac, doc="MAC address of the server (generated)."),
    Prop("max-mtu", Int(64, 65535), default=1500, doc="Maximum Transmission Unit."),
    Prop("keepalive-timeout", Int(0, 4294967295, words=("disabled",)), default=60,
         doc="Seconds after which keepalives are sent; twice that without answer disconnects."),
    Prop("default-profile", PROFILE_REF, default="default", doc="Profile for users without their own."),
    Prop("certificate", Str(max_len=255), default="none", doc="Name of the server certificate, or none."),
    Prop("require-client-certificate", Bool(), default=False,
         doc="Require a client certificate from the same chain."),
    Prop("auth", Flags(*_OVPN_AUTH, allow_empty=False), default=["md5", "sha1", "sha256", "sha512"],
         doc="Authentication methods accepted."),
    Prop("cipher", Flags(*_OVPN_CIPHERS, allow_empty=False), default=["aes128-cbc", "blowfish128"],
         doc="Ciphers accepted."),
    Prop("user-auth-method", Enum("mschap2", "pap"), default="pap", doc="How user names and passwords are checked."),
    Prop("tls-version", Enum("any", "only-1.2"), default="any", doc="TLS versions allowed."),
    Prop("redirect-gateway", Flags("def1", "disabled", "ipv6", allow_empty=False), default=["disabled"],
         doc="Routes the client is told to add: def1 (0.0.0.0/1 + 128.0.0.0/1), ipv6, or disabled."),
    Prop("push-routes", Str(max_len=1400), default="",
         doc="Routes pushed to clients: network [netmask] [gateway] [metric], comma-separated."),
    Prop("reneg-sec", Int(0, 4294967295), default=3600, doc="Seconds between data channel key renegotiations."),
    Prop("enable-tun-ipv6", Bool(), default=False, tab="IPv6", doc="Allow IPv6 in ip (tun) mode."),
    Prop("ipv6-prefix-len", Int(1, 128), default=64, tab="IPv6", doc="Prefix length of the server side address."),
    Prop("tun-server-ipv6", IPv6(), default="::", tab="IPv6", doc="IPv6 address of the server side."),
    Prop("vrf", Str(max_len=64), default="main", doc="VRF the server listens in."),
    disabled_prop(True),
    comment_prop(),
], default_name="ovpn-server{n}", title="OVPN Servers", group="PPP", flags=SERVER_FLAGS,
    columns=["name", "port", "mode", "protocol", "certificate", "default-profile"],
    doc="OpenVPN servers (RouterOS 7.17 and later have several, each with a name; disabled by default).")


# -- PPTP --------------------------------------------------------------------------------------

_ppp_client("pptp", "PPTP", [
    Prop("name", Name(), doc="Name of the interface."),
    *_link_props(1450),
    Prop("connect-to", Host(), required=True, tab=DIAL, doc="Address of the PPTP server."),
    *_user_props(),
    Prop("profile", PROFILE_REF, default="default-encryption", tab=DIAL, doc="PPP profile used for the tunnel."),
    _keepalive(60),
    *_route_props(1),
    Prop("allow", Flags(*AUTH_CLIENT), default=list(AUTH_CLIENT), tab=DIAL, doc="Allowed authentication methods."),
], columns=["name", "connect-to", "user", "profile", "status", "uptime"])

menu("/interface/pptp-server/server", [
    *_ppp_server_basics("PPTP"),
    _keepalive(30, doc="Seconds without packets after which keepalives are sent; five missed replies disconnect."),
    *_link_props(1450),
], single=True, title="PPTP Server", group="PPP", doc="The router's PPTP server.")


# -- SSTP --------------------------------------------------------------------------------------

_SSTP_CIPHERS = ("aes256-gcm-sha384", "aes256-sha")

_ppp_client("sstp", "SSTP", [
    Prop("name", Name(), doc="Name of the interface."),
    *_link_props(1460, note=" Table default 1460 (the Quick Example's print shows 1500)."),
    Prop("connect-to", Host(), required=True, tab=DIAL, doc="Address of the SSTP server."),
    Prop("port", Int(1, 65535), default=443, tab=DIAL, doc="Port to connect to."),
    Prop("http-proxy", Host(), tab=DIAL, doc="HTTP proxy to connect through."),
    Prop("proxy-port", Int(1, 65535), default=443, tab=DIAL, doc="Port of the HTTP proxy."),
    Prop("add-sni", Bool(), default=False, tab=DIAL, doc="Send the server name (TLS SNI) in the client hello."),
    Prop("certificate", Str(max_len=255), default="none", tab=DIAL, doc="Name of the client certificate, or none."),
    Prop("verify-server-certificate", Bool(), default=False, tab=DIAL, doc="Verify the server certificate."),
    Prop("verify-server-address-from-certificate", Bool(), default=False, tab=DIAL,
         doc="Check the server address against its certificate (table default no; the example print shows yes)."),
    Prop("tls-version", Enum("any", "only-1.2"), default="any", tab=DIAL, doc="TLS versions allowed."),
    Prop("ciphers", Flags(*_SSTP_CIPHERS, allow_empty=False), default=list(_SSTP_CIPHERS), tab=DIAL,
         doc="Ciphers allowed."),
    Prop("pfs", Enum("no", "yes", "required"), default="no", tab=DIAL,
         doc="Perfect forward secrecy: yes allows ECDHE/DHE, required uses ECDHE only."),
    *_user_props(),
    Prop("profile", PROFILE_REF, default="default", tab=DIAL, doc="PPP profile used for the tunnel."),
    _keepalive(60),
    *_route_props(None, doc_extra=" Table default empty."),
    Prop("authentication", Flags(*AUTH_SERVER), default=list(AUTH_SERVER), tab=DIAL,
         doc="Allowed authentication methods (default all)."),
], columns=["name", "connect-to", "port", "user", "status", "uptime"])

menu("/interface/sstp-server/server", [
    Prop("enabled", Bool(), default=False, doc="Whether the SSTP server is enabled."),
    Prop("port", Int(1, 65535), default=443, doc="Port the server listens on."),
    *_link_props(1460, note=" Table default 1460 (the Quick Example's print shows 1500)."),
    _keepalive(60),
    Prop("default-profile", PROFILE_REF, default="default", doc="Profile for users without their own."),
    Prop("authentication", Flags(*AUTH_SERVER), default=list(AUTH_SERVER),
         doc="Authentication methods accepted (default all)."),
    Prop("certificate", Str(max_len=255), default="none", doc="Name of the server certificate, or none."),
    Prop("verify-client-certificate", Bool(), default=False, doc="Verify client certificates."),
    Prop("pfs", Enum("no", "yes", "required"), default="no", doc="Perfect forward secrecy."),
    Prop("tls-version", Enum("any", "only-1.2"), default="any", doc="TLS versions allowed."),
    Prop("ciphers", Flags(*_SSTP_CIPHERS, allow_empty=False), default=list(_SSTP_CIPHERS), doc="Ciphers allowed."),
], single=True, title="SSTP Server", group="PPP", doc="The router's SSTP server.")


# -- the servers' interfaces -------------------------------------------------------------------

def _binding(service, kind, peer_prop, peer_doc, extra=()):
    """/interface/<service>-server: static bindings of a user to an interface
    name (for firewall rules and the like); connected users without one appear
    as dynamic ``<service-user>`` interfaces (the document's Status Check prints)."""
    menu("/interface/%s-server" % service, [
        Prop("name", Name(), doc="Name of the interface the user's session gets."),
        Prop("user", Str(max_len=255), default="", doc="User (a /ppp secret) the interface is for."),
        *extra,
        comment_prop(),
        disabled_prop(False),
        running_prop(),
        Prop(peer_prop, kind, readonly=True, tab="Status", doc=peer_doc),
        Prop("mtu", Int(0, 65535), readonly=True, tab="Status", doc="MTU of the session."),
        Prop("uptime", Duration(), readonly=True, tab="Status", doc="How long the session has been up."),
        Prop("encoding", Str(), readonly=True, tab="Status", doc="Encryption and encoding of the session."),
    ], interface_type="%s-in" % service, default_name="%s-in{n}" % service,
        title="%s Server Interfaces" % service.upper(), group="PPP",
        flags=[FLAG_DYNAMIC, FLAG_DISABLED, FLAG_RUNNING],
        columns=["name", "user", "mtu", peer_prop, "uptime", "encoding"],
        doc="Interfaces of the %s server's sessions: static bindings and dynamic ones." % service.upper())


_binding("pppoe", Mac(), "remote-address", "MAC address of the client.",
         [Prop("service", Str(max_len=64), default="", doc="PPPoE service (server service-name) the binding is for.")])
for _service in ("l2tp", "pptp", "sstp", "ovpn"):
    _binding(_service, IPAny(), "client-address", "Address the client connects from.")
