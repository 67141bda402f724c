"""/ip address with ``ip addr``.

Only addresses the configuration has are added and only those the agent
added are taken away again (the ledger remembers them), so an address the
host had before (the one the desktop connects through, say) is left alone
and listed as dynamic.  An address on a disabled interface stays on the
link (which is down) and is flagged invalid, as RouterOS does.
"""

from typing import Any, Dict, List

from .area import Area, Pass, dynamic_id

PATH = "/ip/address"


class Addresses(Area):
    """IPv4 addresses of the configuration, and those the host has besides."""

    key = "addresses"
    paths = (PATH,)

    def reconcile(self, p: Pass) -> None:
        wanted: Dict[str, List[str]] = {}
        for view in p.snap.enabled(PATH):
            ifname = p.snap.ifname(view.get("interface"))
            if not ifname or self.system.link(ifname) is None:
                p.problem(view[".id"], "interface %s does not exist on this host" % (ifname or view.get("interface")))
                continue
            wanted[view[".id"]] = [view["address"], ifname]
        ledger = self.ledger
        for item_id, (address, dev) in list(ledger.items()):
            if wanted.get(item_id) != [address, dev]:
                if self.system.has_address(dev, address) and [address, dev] not in wanted.values():
                    p.journal.run(["ip", "addr", "del", address, "dev", dev],
                                  undo=["ip", "addr", "add", address, "broadcast", "+", "dev", dev])
                del ledger[item_id]
        for item_id, (address, dev) in wanted.items():
            if not self.system.has_address(dev, address):
                p.journal.run(["ip", "addr", "add", address, "broadcast", "+", "dev", dev],
                              undo=["ip", "addr", "del", address, "dev", dev])
            ledger[item_id] = [address, dev]

    def runtime(self, path: str, view: Dict[str, Any]) -> Dict[str, Any]:
        iface = view.get("interface")
        item = self.router.store.get(iface) if iface else None
        if item is not None and item.get("disabled"):
            return {"invalid": True}
        return {}

    def dynamic(self, path: str) -> List[Dict[str, Any]]:
        mine = {tuple(v) for v in self.ledger.values()}
        out = []
        for a in self.system.addresses():
            if a["dev"] == "lo" or (a["address"], a["dev"]) in mine:
                continue
            out.append({".id": dynamic_id("addr", "%s|%s" % (a["address"], a["dev"])), "address": a["address"],
                        "interface": self.driver.links.interface_id(a["dev"]), "disabled": False,
                        "comment": "", ".dynamic": True})
        return out
