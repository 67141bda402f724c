"""Renewal on the linux driver: a router in one network namespace renews
through the account server in another, and the level it gets becomes the
egress limit of its interfaces."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.license.conftest import ENV, LicenseServer
from tests.linux.netlab import Lab, open_lab, router_and_plain_host

pytestmark = [pytest.mark.root, pytest.mark.netns, pytest.mark.slow]


@pytest.fixture
def lab(tmp_path) -> Iterator[Lab]:
    with open_lab(tmp_path / "lab") as lab:
        yield lab


def _egress_bits(host, dev: str) -> int | None:
    roots = [q for q in host.json(["tc", "-j", "qdisc", "show", "dev", dev]) if q.get("root")]
    if not roots or roots[0].get("kind") != "tbf":
        return None
    return int(roots[0]["options"]["rate"]) * 8


def test_a_renewal_lifts_the_egress_limit_to_the_new_level(lab, tmp_path):
    router, office = router_and_plain_host(lab, ("r", "s"))
    assert router.wait_ping("10.9.0.2")
    assert _egress_bits(router, "eth1") == 10 ** 6                    # free: 1 Mbit/s

    server = LicenseServer(tmp_path / "server")
    server.add_account("alice", "wonderland")
    proc = office.popen([sys.executable, "-m", "license_server", "--db", str(server.db), "--key", str(server.key),
                         "--listen", "10.9.0.2:0"], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on 10.9.0.2:"), line + proc.stderr.read()
        address = line.split()[2]
        router.cli("/system license set license-server=%s license-server-key=%s" % (address, server.public_key))
        wrong = router.cli("/system license renew account=alice password=guess level=p10").stdout
        assert "status: ERROR: Unauthorized" in wrong
        assert _egress_bits(router, "eth1") == 10 ** 6
        out = router.cli("/system license renew account=alice password=wonderland level=p10").stdout
        assert "status: renewing" in out and out.strip().endswith("status: done")
        lic = router.rows("/system license")[0]
        assert (lic["level"], lic["speed-limit"]) == ("p10", "10Gbit")
        assert _egress_bits(router, "eth1") == 10 * 10 ** 9           # p10: 10 Gbit/s
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
