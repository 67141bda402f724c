"""Links: ethernet ports, bridges and bridge ports, with ``ip link``.

Ethernet items are the host's own NICs, known by their system names (a
factory configuration lists the NICs the host has, ``lo`` left out).  The
driver never creates or deletes them; it renames them, sets their MTU, ARP
mode, alias (the item's comment) and up/down state.  Bridges are created
and deleted.  The kernel bridge runs 802.1D STP (``protocol-mode=stp``);
it has no RSTP or MSTP, so with ``rstp`` (the default) or ``mstp`` the
bridge runs without spanning tree, and says so (a notice on the item and
in /log).

Host interfaces the configuration does not know (plugged in later, made by
other software) are listed as dynamic items of /interface/ethernet (or
/interface/bridge) with stable ids, so they can be used in addresses,
routes, bridge ports and firewall rules.
"""

import re
import time
from typing import Any, Dict, Iterator, List, Optional, Set

from ...errors import RouterError
from ...store import Change
from .area import Area, Pass, dynamic_id
from .config import BRIDGE, BRIDGE_PORT, ETHERNET

#: kinds of links a factory configuration takes as ethernet ports
NIC_KINDS = (None, "veth", "dummy", "macvlan", "ipvlan", "vxlan", "geneve")
MAX_NAME = 15
MAX_PATH_COST = 65535
ARP_SYSCTLS = {"proxy-arp": "proxy_arp", "local-proxy-arp": "proxy_arp_pvlan"}


def check_ifname(name: str, prop: str = "name") -> None:
    """Refuse a name Linux cannot give an interface."""
    if len(name.encode()) > MAX_NAME:
        raise RouterError("%s: %s is longer than the %d characters Linux allows for an interface name"
                          % (prop, name, MAX_NAME), "argument", prop)
    if name in (".", "..") or re.search(r"[/:\s]", name):
        raise RouterError("%s: %s cannot be a Linux interface name (no /, : or spaces)" % (prop, name),
                          "argument", prop)


def mac_upper(mac: Optional[str]) -> Optional[str]:
    return mac.upper() if isinstance(mac, str) and mac else None


class Links(Area):
    """Ethernet ports and bridges; live state of every interface; monitor-traffic."""

    key = "links"
    paths = (ETHERNET, BRIDGE, "/interface")

    # -- factory ---------------------------------------------------------------------
    def host_nics(self) -> List[Dict[str, Any]]:
        """The host's NICs in ifindex order (lo and virtual devices left out)."""
        rows = self.host.json(["ip", "-j", "-d", "link", "show"])
        nics = []
        for r in sorted(rows, key=lambda r: r.get("ifindex", 0)):
            kind = (r.get("linkinfo") or {}).get("info_kind")
            if r.get("link_type") != "ether" or kind not in NIC_KINDS:
                continue
            nics.append({"name": r["ifname"], "mac-address": mac_upper(r.get("address")), "mtu": r.get("mtu")})
        return nics

    def factory(self, changes: List[Change]) -> None:
        eth = [ch for ch in changes if ch.path == ETHERNET]
        try:
            nics = self.host_nics()
        except RouterError:
            nics = []
        at = changes.index(eth[0]) if eth else len(changes)
        for ch in eth:
            changes.remove(ch)
        new = []
        for i, nic in enumerate(nics):
            item_id = eth[i].id if i < len(eth) else self.router.store.new_id()
            after = {"name": nic["name"], "default-name": nic["name"], ".factory": nic["name"]}
            if nic["mac-address"]:
                after["mac-address"] = nic["mac-address"]
            if isinstance(nic["mtu"], int):
                after["mtu"] = nic["mtu"]
            new.append(Change(ETHERNET, item_id, None, after))
        changes[at:at] = new

    # -- names ----------------------------------------------------------------------------
    def configured_names(self) -> Set[str]:
        names = set()
        for m in self.router.interface_menus():
            for it in self.router.store.items(m.path):
                names.add(self.router.name_of(it[".id"], it, m))
        return names

    def internal_names(self) -> Set[str]:
        names: Set[str] = set()
        for area in self.driver.areas:
            names.update(area.internal_links())
        return names

    def foreign_links(self) -> List[Dict[str, Any]]:
        """Links of the host the configuration does not know."""
        known = self.configured_names() | self.internal_names() | {"lo"}
        out = []
        for name, link in self.system.links().items():
            if name not in known:
                out.append(link)
        return out

    def dynamic_name(self, item_id: str) -> Optional[str]:
        names = self.driver.state["names"]
        if item_id in names:
            return names[item_id]
        for link in self.foreign_links():
            if dynamic_id("link", link["ifname"]) == item_id:
                return link["ifname"]
        return None

    def dynamic_names(self) -> List[str]:
        return [link["ifname"] for link in self.foreign_links()]

    def interface_id(self, name: str) -> str:
        """The id of an interface by system name: a configured one's, or a dynamic id."""
        for m in self.router.interface_menus():
            for it in self.router.store.items(m.path):
                if self.router.name_of(it[".id"], it, m) == name:
                    return it[".id"]
        item_id = dynamic_id("link", name)
        self._remember(item_id, name)
        return item_id

    def system_name(self, item_id: str) -> Optional[str]:
        """The system name of a configured interface whose name differs from its item's."""
        for area in self.driver.areas:
            if area is not self:
                name = area.system_names().get(item_id)
                if name:
                    return name
        return None

    def _remember(self, item_id: str, name: str) -> None:
        names = self.driver.state["names"]
        if names.get(item_id) != name:
            names[item_id] = name
            self.driver.save()

    def dynamic(self, path: str) -> List[Dict[str, Any]]:
        if path not in (ETHERNET, BRIDGE):
            return []
        out = []
        for link in self.foreign_links():
            is_bridge = self.system.kind(link) == "bridge"
            if is_bridge != (path == BRIDGE):
                continue
            name = link["ifname"]
            item_id = dynamic_id("link", name)
            self._remember(item_id, name)
            row = {".id": item_id, "name": name, "mtu": link.get("mtu"),
                   "mac-address": mac_upper(link.get("address")), "running": self.system.is_running(link),
                   "disabled": not self.system.is_up(link), "comment": link.get("ifalias") or "",
                   "slave": bool(link.get("master")), ".dynamic": True}
            if path == ETHERNET:
                row["default-name"] = name
            else:
                row["actual-mtu"] = link.get("mtu")
            row.update(self.system.counters(link))
            out.append(row)
        return out

    # -- live values of any interface ------------------------------------------------------------
    def interface_runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        if view.get(".dynamic") and "name" in view and path in (ETHERNET, BRIDGE):
            return {}
        m = self.router.schema[path]
        name = view.get("name") or self.router.name_of(view[".id"], view, m)
        if path == "/zerotier/interface":
            name = self.system_name(view[".id"]) or name
        link = self.system.link(name)
        out: Dict[str, Any] = {"running": self.system.is_running(link) and not view.get("disabled")}
        out.update(self.system.counters(link))
        out["slave"] = bool(link and link.get("master"))
        if link is not None:
            prop = m.prop("mac-address")
            if prop is not None and (prop.readonly or not view.get("mac-address")):
                out["mac-address"] = mac_upper(link.get("address"))
            if path == BRIDGE or m.prop("actual-mtu") is not None:
                out["actual-mtu"] = link.get("mtu")
        return out

    # -- reconciling -------------------------------------------------------------------------
    def reconcile(self, p: Pass) -> None:
        for view in p.snap.rows(ETHERNET):
            self._ethernet(p, view)
        self._bridges(p)

    def _find(self, view: Dict[str, Any], previous: Optional[str]) -> Optional[Dict[str, Any]]:
        """The system link of an ethernet item: by the name it was last given,
        its configured name, or its MAC address."""
        for name in (previous, view.get("name")):
            link = self.system.link(name)
            if link is not None:
                return link
        mac = (view.get("mac-address") or "").lower()
        if mac:
            for link in self.system.links().values():
                if (link.get("address") or "").lower() == mac and link.get("link_type") == "ether" \
                        and self.system.kind(link) in NIC_KINDS:
                    return link
        return None

    def _ethernet(self, p: Pass, view: Dict[str, Any]) -> None:
        item_id, name = view[".id"], view.get("name")
        ledger = self.ledger.setdefault("ether", {})
        link = self._find(view, ledger.get(item_id))
        if link is None:
            p.problem(item_id, "there is no such interface on this host (%s)" % name)
            return
        check_ifname(name)
        if link["ifname"] != name:
            self.rename(p, link["ifname"], name)
            link = self.system.link(name) or link
        ledger[item_id] = name
        self.settle(p, item_id, name, mtu=view.get("mtu"), comment=view.get("comment"),
                    up=not view.get("disabled"), arp=view.get("arp"))

    # -- shared by every area that makes links -----------------------------------------------------
    def rename(self, p: Pass, old: str, new: str) -> None:
        if self.system.link(new) is not None:
            raise RouterError("name: %s is already the name of another interface of this host" % new,
                              "conflict", "name")
        link = self.system.link(old)
        was_up = self.system.is_up(link)
        if was_up:
            p.journal.run(["ip", "link", "set", "dev", old, "down"], undo=["ip", "link", "set", "dev", old, "up"])
        p.journal.run(["ip", "link", "set", "dev", old, "name", new],
                      undo=["ip", "link", "set", "dev", new, "name", old])
        if was_up:
            p.journal.run(["ip", "link", "set", "dev", new, "up"], undo=["ip", "link", "set", "dev", new, "down"])

    def settle(self, p: Pass, item_id: str, name: str, mtu: Any = None, comment: Optional[str] = None,
               up: Optional[bool] = None, arp: Optional[str] = None, mac: Optional[str] = None) -> None:
        """Make a link's MTU, MAC, ARP mode, alias and state what the item says."""
        link = self.system.link(name)
        if link is None:
            return
        dev = ["ip", "link", "set", "dev", name]
        if isinstance(mtu, int) and mtu > 0 and link.get("mtu") != mtu:
            p.journal.run(dev + ["mtu", str(mtu)], undo=dev + ["mtu", str(link.get("mtu"))])
        if mac and (link.get("address") or "").lower() != mac.lower():
            p.journal.run(dev + ["address", mac.lower()], undo=dev + ["address", link.get("address")])
        if comment is not None and (link.get("ifalias") or "") != comment:
            p.journal.run(dev + ["alias", comment], undo=dev + ["alias", link.get("ifalias") or ""])
        if arp is not None:
            self._arp(p, item_id, name, link, arp)
        if up is not None and self.system.is_up(link) != up:
            p.journal.run(dev + ["up" if up else "down"], undo=dev + ["down" if up else "up"])

    def _arp(self, p: Pass, item_id: str, name: str, link: Dict[str, Any], arp: str) -> None:
        dev = ["ip", "link", "set", "dev", name]
        off = "NOARP" in (link.get("flags") or [])
        want_off = arp == "disabled"
        if off != want_off:
            p.journal.run(dev + ["arp", "off" if want_off else "on"], undo=dev + ["arp", "on" if want_off else "off"])
        for mode, knob in ARP_SYSCTLS.items():
            key = "net.ipv4.conf.%s.%s" % (name, knob)
            want = "1" if arp == mode else "0"
            have = self.host.read_sysctl(key)
            if have is not None and have != want:
                p.journal.call("sysctl %s=%s" % (key, want), lambda k=key, w=want: self.host.sysctl(k, w),
                               lambda k=key, h=have: self.host.sysctl(k, h))
        if arp == "reply-only":
            p.notice(item_id, "arp=reply-only is not supported by the linux driver: ARP runs enabled")

    # -- bridges ----------------------------------------------------------------------------------
    def _bridges(self, p: Pass) -> None:
        ledger = self.ledger.setdefault("bridge", {})
        wanted = {v[".id"]: v for v in p.snap.rows(BRIDGE)}
        for item_id, name in list(ledger.items()):
            view = wanted.get(item_id)
            if view is None:
                if self.system.link(name) is not None:
                    p.journal.run(["ip", "link", "del", "dev", name],
                                  undo=["ip", "link", "add", "name", name, "type", "bridge"])
                del ledger[item_id]
            elif view.get("name") != name and self.system.link(name) is not None:
                check_ifname(view["name"])
                self.rename(p, name, view["name"])
                ledger[item_id] = view["name"]
        for item_id, view in wanted.items():
            name = view.get("name")
            check_ifname(name)
            link = self.system.link(name)
            if link is None:
                p.journal.run(["ip", "link", "add", "name", name, "type", "bridge"],
                              undo=["ip", "link", "del", "dev", name])
                link = self.system.link(name)
            elif self.system.kind(link) != "bridge":
                raise RouterError("name: %s is already the name of another interface of this host" % name,
                                  "conflict", "name")
            ledger[item_id] = name
            if view.get("protocol-mode") in ("rstp", "mstp"):
                p.notice(item_id, "protocol-mode=%s: the kernel bridge has no %s (that needs mstpd, which the "
                                  "linux driver does not run); the bridge runs without spanning tree"
                         % (view["protocol-mode"], view["protocol-mode"].upper()))
            self._bridge_settings(p, name, view, link or {})
            mac = view.get("admin-mac") if view.get("auto-mac") is False else None
            self.settle(p, item_id, name, mtu=view.get("mtu"), comment=view.get("comment"),
                        up=not view.get("disabled"), arp=view.get("arp"), mac=mac)

    @staticmethod
    def _bridge_wanted(view: Dict[str, Any]) -> Dict[str, int]:
        return {
            "stp_state": 1 if view.get("protocol-mode") == "stp" else 0,
            "priority": int(view.get("priority", 0x8000)),
            "forward_delay": int(view.get("forward-delay", 15) * 100),
            "max_age": int(view.get("max-message-age", 20) * 100),
            "ageing_time": int(view.get("ageing-time", 300) * 100),
            "vlan_filtering": 1 if view.get("vlan-filtering") else 0,
            "mcast_snooping": 1 if view.get("igmp-snooping") else 0,
        }

    def _bridge_settings(self, p: Pass, name: str, view: Dict[str, Any], link: Dict[str, Any]) -> None:
        have = ((link.get("linkinfo") or {}).get("info_data")) or {}
        want = self._bridge_wanted(view)
        differ = {k: v for k, v in want.items() if have.get(k) != v}
        if not differ:
            return
        args, back = [], []
        for k, v in differ.items():
            args += [k, str(v)]
            if k in have:
                back += [k, str(have[k])]
        p.journal.run(["ip", "link", "set", "dev", name, "type", "bridge"] + args,
                      undo=(["ip", "link", "set", "dev", name, "type", "bridge"] + back) if back else None)

    # -- monitor-traffic --------------------------------------------------------------------------
    def command(self, path: str, name: str, item_id: Optional[str], args: Dict[str, Any]) -> Optional[Iterator[Dict[str, str]]]:
        if path != "/interface" or name != "monitor-traffic":
            return None
        ifname = stored_name(self.router, item_id) or self.dynamic_name(item_id or "")
        if not ifname:
            raise RouterError("no such interface (%s)" % item_id, "missing")
        return self._monitor(ifname)

    def _sample(self, ifname: str) -> Optional[Dict[str, int]]:
        rows = self.host.json(["ip", "-j", "-s", "link", "show", "dev", ifname])
        return self.system.counters(rows[0]) if rows else None

    def _monitor(self, ifname: str) -> Iterator[Dict[str, str]]:
        last = self._sample(ifname)
        t0 = time.monotonic()
        while True:
            now = self._sample(ifname)
            t1 = time.monotonic()
            dt = t1 - t0
            row = {"name": ifname}
            for d in ("rx", "tx"):
                if now is None or last is None or dt < 0.05:
                    bits = pkts = 0.0
                else:
                    bits = 8.0 * (now["%s-byte" % d] - last["%s-byte" % d]) / dt
                    pkts = (now["%s-packet" % d] - last["%s-packet" % d]) / dt
                row["%s-packets-per-second" % d] = str(int(max(0.0, pkts)))
                row["%s-bits-per-second" % d] = format_bps(max(0.0, bits))
            if dt >= 0.05:
                last, t0 = now, t1
            yield {k: row[k] for k in ("name", "rx-packets-per-second", "rx-bits-per-second",
                                       "tx-packets-per-second", "tx-bits-per-second")}


def stored_name(router: Any, item_id: Optional[str]) -> Optional[str]:
    """The configured name of a stored interface, or None."""
    if not item_id or router.store.get(item_id) is None:
        return None
    return router.name_of(item_id)


def format_bps(bits: float) -> str:
    """A rate as RouterOS prints it: 950bps, 12.4kbps, 1.2Mbps, 2.0Gbps."""
    for unit, size in (("Gbps", 1e9), ("Mbps", 1e6), ("kbps", 1e3)):
        if bits >= size:
            return "%.1f%s" % (bits / size, unit)
    return "%dbps" % int(bits)


class Ports(Area):
    """Bridge ports: ``ip link set IF master BRIDGE``, priority and path cost."""

    key = "ports"
    paths = (BRIDGE_PORT,)

    def reconcile(self, p: Pass) -> None:
        ledger = self.ledger
        wanted: Dict[str, List[str]] = {}
        for view in p.snap.enabled(BRIDGE_PORT):
            bridge = p.snap.get(view.get("bridge"))
            ifname = p.snap.ifname(view.get("interface"))
            if bridge is None or bridge.get("disabled"):
                continue
            if not ifname or self.system.link(ifname) is None:
                p.problem(view[".id"], "interface %s does not exist on this host" % (ifname or view.get("interface")))
                continue
            wanted[view[".id"]] = [ifname, bridge["name"]]
            if view.get("horizon") not in (None, "none"):
                p.notice(view[".id"], "horizon is not supported by the linux driver (the port joins without it)")
        for item_id, (ifname, brname) in list(ledger.items()):
            if wanted.get(item_id) != [ifname, brname]:
                link = self.system.link(ifname)
                if link is not None and link.get("master") == brname:
                    p.journal.run(["ip", "link", "set", "dev", ifname, "nomaster"],
                                  undo=["ip", "link", "set", "dev", ifname, "master", brname])
                del ledger[item_id]
        for item_id, (ifname, brname) in wanted.items():
            link = self.system.link(ifname)
            if link.get("master") != brname:
                back = ["ip", "link", "set", "dev", ifname] + (["master", link["master"]] if link.get("master")
                                                              else ["nomaster"])
                p.journal.run(["ip", "link", "set", "dev", ifname, "master", brname], undo=back)
                link = self.system.link(ifname) or link
            ledger[item_id] = [ifname, brname]
            view = p.snap.get(item_id)
            have = (link.get("linkinfo") or {}).get("info_slave_data") or {}
            # the kernel's port priority has 6 bits (default 32), RouterOS's the upper 4 of a byte (0x80)
            want = {"priority": int(view.get("priority", 0x80)) // 4, "cost": int(view.get("path-cost", 10))}
            if want["cost"] > MAX_PATH_COST:
                p.notice(item_id, "path-cost: the kernel bridge allows at most %d (%d is used)"
                          % (MAX_PATH_COST, MAX_PATH_COST))
                want["cost"] = MAX_PATH_COST
            differ = [k for k in want if k in have and have[k] != want[k]]
            if differ:
                p.journal.run(["ip", "link", "set", "dev", ifname, "type", "bridge_slave"]
                              + [x for k in differ for x in (k, str(want[k]))],
                              undo=["ip", "link", "set", "dev", ifname, "type", "bridge_slave"]
                              + [x for k in differ for x in (k, str(have[k]))])

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        ifname = self.router.name_of(view.get("interface")) if view.get("interface") else None
        bridge = self.router.store.get(view.get("bridge") or "")
        link = self.system.link(ifname)
        if view.get("disabled"):
            return {"status": "disabled", "inactive": False, "forwarding": False, "learning": False,
                    "role": "disabled-port"}
        member = bool(link and bridge and link.get("master") == bridge.get("name"))
        state = ((link or {}).get("linkinfo") or {}).get("info_slave_data", {}).get("state")
        active = member and self.system.is_running(link)
        return {"status": "in-bridge" if active else "inactive", "inactive": not active,
                "forwarding": active and state in (None, "forwarding"),
                "learning": active and state in (None, "forwarding", "learning"),
                "role": "designated-port" if active else "disabled-port"}
