"""``check-impact``: changes that may cut the desktop off are flagged before
they are sent (the sim's addresses and routes say how the router reaches
the desktop; the linux driver asks the kernel: test_safe_mode_netns.py)."""

from __future__ import annotations

import pytest

from winbox_py.backend.session import RpcError

NEAR = {"ssh_connection": "10.0.0.7 50022 10.0.0.1 22"}           # the desktop on ether1's network
FAR = {"ssh_connection": "203.0.113.9 40000 10.0.0.1 22"}          # the desktop behind a gateway


async def _setup(h):
    admin = await h.session()
    await admin.add("/ip/address", {"address": "10.0.0.1/24", "interface": "ether1"})
    await admin.add("/ip/address", {"address": "172.16.0.1/24", "interface": "ether2"})
    await admin.add("/ip/route", {"dst-address": "0.0.0.0/0", "gateway": "10.0.0.254"})
    return admin


def _one(warnings: list[str], *words: str) -> None:
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("This change may cut your connection to the router")
    for w in words:
        assert w in warnings[0], (w, warnings[0])


def test_interface_and_address_changes_on_the_path_are_flagged(arun, hub_agent):
    async def go():
        h = await hub_agent()
        admin = await _setup(h)
        s = await h.session(peer=NEAR)
        _one(await s.check_impact("/interface/ethernet", "disable", ["ether1"]), "disables interface ether1",
             "10.0.0.7", "through ether1")
        _one(await s.check_impact("/interface/ethernet", "set", ["ether1"], {"disabled": "yes"}), "ether1")
        assert await s.check_impact("/interface/ethernet", "disable", ["ether2"]) == []
        assert await s.check_impact("/interface/ethernet", "set", ["ether1"], {"mtu": "1400"}) == []
        addr = [r[".id"] for r in await s.print("/ip/address") if r["address"] == "10.0.0.1/24"][0]
        _one(await s.check_impact("/ip/address", "remove", [addr]), "removes address 10.0.0.1/24")
        _one(await s.check_impact("/ip/address", "disable", [addr]), "disables")
        _one(await s.check_impact("/ip/address", "set", [addr], {"address": "10.0.0.2/24"}), "changes")
        assert await s.check_impact("/ip/address", "set", [addr], {"comment": "uplink"}) == []
        other = [r[".id"] for r in await s.print("/ip/address") if r["address"] == "172.16.0.1/24"][0]
        assert await s.check_impact("/ip/address", "remove", [other]) == []
        _one(await s.check_impact("/ip/address", "add", None, {"address": "10.0.0.9/28", "interface": "ether3"}),
             "ether3")
        assert await s.check_impact("/ip/address", "add", None,
                                    {"address": "192.0.2.1/24", "interface": "ether3"}) == []
        await s.close()
        await admin.close()
        await h.close()
    arun(go())


def test_route_changes_on_the_path_are_flagged(arun, hub_agent):
    async def go():
        h = await hub_agent()
        admin = await _setup(h)
        s = await h.session(peer=FAR)
        default = (await s.print("/ip/route", where={"dst-address": "0.0.0.0/0"}))[0][".id"]
        _one(await s.check_impact("/ip/route", "remove", [default]), "the route to 0.0.0.0/0")
        _one(await s.check_impact("/ip/route", "set", [default], {"gateway": "172.16.0.254"}), "changes")
        assert await s.check_impact("/ip/route", "set", [default], {"comment": "isp"}) == []
        _one(await s.check_impact("/ip/route", "add", None, {"dst-address": "203.0.113.0/24", "blackhole": "yes"}),
             "blackhole")
        _one(await s.check_impact("/ip/route", "add", None, {"dst-address": "203.0.113.0/24",
                                                              "gateway": "172.16.0.254"}), "elsewhere")
        assert await s.check_impact("/ip/route", "add", None, {"dst-address": "198.51.100.0/24",
                                                                "gateway": "172.16.0.254"}) == []
        # the address that reaches the gateway is on the path too
        addr = [r[".id"] for r in await s.print("/ip/address") if r["address"] == "10.0.0.1/24"][0]
        _one(await s.check_impact("/ip/address", "remove", [addr]), "10.0.0.1/24")
        await s.close()
        await admin.close()
        await h.close()
    arun(go())


def test_firewall_rules_that_drop_the_ssh_traffic_are_flagged(arun, hub_agent):
    async def go():
        h = await hub_agent()
        admin = await _setup(h)
        s = await h.session(peer=NEAR)
        _one(await s.check_impact("/ip/firewall/filter", "add", None,
                                  {"chain": "input", "action": "drop", "src-address": "10.0.0.0/24"}), "drop")
        _one(await s.check_impact("/ip/firewall/filter", "add", None,
                                  {"chain": "input", "action": "reject", "protocol": "tcp", "dst-port": "22"}),
             "reject")
        for harmless in ({"chain": "input", "action": "drop", "protocol": "udp"},
                         {"chain": "input", "action": "drop", "protocol": "tcp", "dst-port": "80"},
                         {"chain": "input", "action": "drop", "src-address": "!10.0.0.0/24"},
                         {"chain": "forward", "action": "drop"},
                         {"chain": "input", "action": "drop", "connection-state": "invalid"},
                         {"chain": "input", "action": "accept"}):
            assert await s.check_impact("/ip/firewall/filter", "add", None, harmless) == [], harmless
        accept = await admin.add("/ip/firewall/filter", {"chain": "input", "action": "accept", "protocol": "tcp",
                                                         "dst-port": "22"})
        await admin.add("/ip/firewall/filter", {"chain": "input", "action": "drop", "disabled": "yes"})
        assert await s.check_impact("/ip/firewall/filter", "disable", [accept]) == []   # the drop is disabled
        drop = (await s.print("/ip/firewall/filter", where={"action": "drop"}))[0][".id"]
        assert await s.check_impact("/ip/firewall/filter", "enable", [drop]) == []        # the accept comes first
        await admin.enable("/ip/firewall/filter", [drop])
        _one(await s.check_impact("/ip/firewall/filter", "disable", [accept]), "later rule")
        _one(await s.check_impact("/ip/firewall/filter", "remove", [accept]), "later rule")
        await s.close()
        await admin.close()
        await h.close()
    arun(go())


def test_without_ssh_there_is_nothing_to_warn_about_and_bad_input_is_refused(arun, hub_agent):
    async def go():
        h = await hub_agent()
        admin = await _setup(h)
        assert await admin.check_impact("/interface/ethernet", "disable", ["ether1"]) == []
        result = await admin._call("check-impact", path="/interface/ethernet", action="disable", ids=["ether1"])
        assert result == {"warnings": [], "path": None}
        s = await h.session(peer=NEAR)
        result = await s._call("check-impact", path="/interface/ethernet", action="disable", ids=["ether1"])
        assert result["path"] == {"client": "10.0.0.7", "port": 22, "interface": "ether1", "source": "10.0.0.1",
                                  "gateway": None}
        with pytest.raises(RpcError) as err:
            await s.check_impact("/interface/ethernet", "explode", ["ether1"])
        assert err.value.property == "action" and "add, set" in err.value.message
        with pytest.raises(RpcError) as err:
            await s.check_impact("/ip/address", "add", None, {"address": "10.0.0.300/24", "interface": "ether1"})
        assert err.value.property == "address"
        with pytest.raises(RpcError) as err:
            await s.check_impact("/interface/ethernet", "disable", ["ether99"])
        assert err.value.problem == "missing"
        await s.close()
        await admin.close()
        await h.close()
    arun(go())
