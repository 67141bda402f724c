"""Render the desktop's windows under X and save screenshots.

Run by packaging/screenshots/run.sh under Xvfb (needs DISPLAY). Uses a real
demo agent on a throw-away state directory, configures a few things through
the same session the windows use, and for each scene shows the windows and
captures the whole screen with ImageMagick's ``import -window root``:

- login.png: the login window, a neighbor heard over MNDP (a real packet on
  loopback);
- main.png: the main window with three table windows (also copied to
  docs/screenshot-main.png);
- dialog.png: a PPPoE client's item dialog with its tabs;
- terminal.png: New Terminal (the device's shell on a pty) after a few commands
  and a monitor stopped with Ctrl-C;
- pppoe-status.png: the PPPoE client's Status tab (its monitor, live);
- traffic.png: an interface's traffic graph window (from the table's row menu);
- zerotier-peers.png: the ZeroTier window's Peers tab, live;
- resources.png: System > Resources;
- license.png, renew-license.png, license-p1.png: System > License and
  Renew License against the project's account server on loopback (free,
  renewing to a p1 trial, after).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "packaging" / "screenshots" / "out"


async def settle(seconds: float = 0.6) -> None:
    await asyncio.sleep(seconds)


def shoot(name: str) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    subprocess.run(["import", "-window", "root", str(path)], check=True)
    print("saved", path)
    return path


async def configure(session) -> None:
    s = session
    await s.set("/system/identity", [], {"name": "core-gw"})
    await s.add("/ip/pool", {"name": "pppoe-pool", "ranges": "10.50.0.10-10.50.0.250"})
    await s.add("/ip/address", {"address": "192.168.88.1/24", "interface": "ether2", "comment": "LAN"})
    await s.add("/ip/address", {"address": "203.0.113.2/30", "interface": "ether1", "comment": "uplink"})
    await s.add("/ip/address", {"address": "10.10.10.1/24", "interface": "ether3"})
    for n in range(1, 5):
        await s.add("/ppp/secret", {"name": "user%d" % n, "password": "pw%d" % n, "service": "pppoe"})
    await s.add("/interface/pppoe-client", {"name": "pppoe-isp", "interface": "ether1", "user": "MT-User",
                                            "password": "StrongPass", "add-default-route": "yes",
                                            "disabled": "no"})
    await s.add("/interface/pppoe-client", {"name": "pppoe-backup", "interface": "ether4", "user": "backup",
                                            "comment": "second ISP"})


async def terminal_scene(win) -> None:
    """New Terminal: the device's shell on a pty, a few commands, a monitor
    stopped with Ctrl-C, and a line being typed."""
    term_window = win.open_entry(win.tree.entry("New Terminal"))
    term_window.parentWidget().setGeometry(120, 40, 860, 620)
    term = term_window.terminal
    await settle(0.5)                                       # the pty follows the window's size
    for line in ("/system identity print", "/ip address print", "/interface pppoe-client print"):
        await term.run(line)
    if term.pty is not None:
        term.send(b"/interface monitor-traffic ether1\r")
        await settle(2.4)
        term.send(b"\x03")
        await settle(0.6)                                   # the prompt is back
    term.line = "/ip route pr"
    await settle(0.8)
    term._render()
    shoot("terminal.png")
    term_window.parentWidget().close()


async def main() -> int:
    from winbox_py.app import open_demo
    from winbox_py.backend import mndp
    from winbox_py.backend.addressbook import AddressBook
    from winbox_py.backend.credentials import Credentials
    from winbox_py.views.login import LoginWindow
    from winbox_py.views.mainwindow import MainWindow

    with tempfile.TemporaryDirectory(prefix="winbox-shots-") as tmp:
        tmp_path = Path(tmp)
        session = await open_demo(str(tmp_path / "router"), seed=3)
        try:
            await configure(session)

            # 1. login window, with a saved router and a neighbor
            book = AddressBook(tmp_path / "addresses.json")
            book.put({"address": "192.168.88.1", "user": "admin", "group": "office", "comment": "core router"})
            book.put({"address": "[2001:db8::1]:2222", "user": "ops", "group": "lab", "comment": "lab CHR"})
            login = LoginWindow(book=book, credentials=Credentials())
            login.move(40, 40)
            login.show()
            await settle()
            sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sender.sendto(mndp.encode(mndp.Neighbor(mac="02:4A:11:22:33:44", identity="core-gw",
                                                    version="7.18 (stable)", platform="MikroTik", board="CHR",
                                                    interface="ether1", uptime=93784, ipv4="192.168.88.1")),
                          ("127.0.0.1", mndp.PORT))
            sender.close()
            await settle(0.4)
            login.address.setText("192.168.88.1")
            login.tabs.setCurrentIndex(0)
            await settle()
            shoot("login.png")
            login.tabs.setCurrentIndex(1)
            await settle()
            shoot("login-neighbors.png")
            login.close()

            # 2. main window with three table windows
            win = MainWindow(session, "192.168.88.1")
            win.setGeometry(0, 0, 1280, 800)
            win.show()
            ifaces = win.open_path("/interface")
            addresses = win.open_path("/ip/address")
            ppp = win.open_path("/interface/pppoe-client")
            geo = {ifaces: (10, 10, 700, 250), addresses: (330, 280, 620, 200), ppp: (40, 500, 820, 190)}
            for w, (x, y, wd, h) in geo.items():
                w.parentWidget().setGeometry(x, y, wd, h)
            ip = next(n for n in win.tree.nodes if n.label == "IP")
            for i in range(win.tree.tree.topLevelItemCount()):
                item = win.tree.tree.topLevelItem(i)
                if item.text(0).startswith("IP") and not item.text(0).startswith("IPv6"):
                    item.setExpanded(True)
            del ip
            await settle(2.5)
            shot = shoot("main.png")
            docs = ROOT / "docs"
            docs.mkdir(exist_ok=True)
            shutil.copy(shot, docs / "screenshot-main.png")

            # 3. an item dialog with tabs
            pane = ppp.pane("/interface/pppoe-client")
            item = next(i for i in pane.model.ids() if pane.model.value(i, "name") == "pppoe-isp")
            dialog = win.open_item("/interface/pppoe-client", item)
            dialog.move(420, 140)
            await settle(1.0)
            dialog.tabs.setCurrentIndex(1)
            await settle(0.5)
            shoot("dialog.png")
            dialog.tabs.setCurrentIndex(next(i for i in range(dialog.tabs.count())
                                             if dialog.tabs.tabText(i) == "Status"))
            await settle(1.5)
            shoot("dialog-status.png")
            dialog.close()

            # 4. the terminal
            await terminal_scene(win)
            await live_scenes(session, win, tmp_path)
            win.close()
            await settle(0.5)
        finally:
            await session.close()
    return 0


class AccountServer:
    """The project's license account server on a free loopback port (for the License pictures)."""

    def __init__(self, directory: Path):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "agent")]))
        cli = [sys.executable, "-m", "license_server"]
        key, db = str(directory / "server.pem"), str(directory / "accounts.db")
        self.public_key = subprocess.run(cli + ["keygen", "--key", key], env=env, capture_output=True, text=True,
                                         check=True).stdout.strip()
        subprocess.run(cli + ["add-account", "--db", db, "mymikrotikcomaccount", "--password-stdin",
                              "--iterations", "10000"], env=env, input="secret\n", capture_output=True, text=True,
                       check=True)
        self.process = subprocess.Popen(cli + ["--db", db, "--key", key, "--listen", "127.0.0.1:0"], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.address = self.process.stdout.readline().split()[2]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self.process.stdout.close()


async def live_scenes(session, win, tmp_path: Path) -> None:
    """The live windows: PPPoE status, a traffic graph, ZeroTier peers, Resources, License."""
    from winbox_py.views.trafficgraph import TrafficWindow
    await session.enable("/zerotier", ["zt1"])

    # 5. the PPPoE client's Status tab, connected and counting
    ppp = win.open_path("/interface/pppoe-client")
    pane = ppp.pane("/interface/pppoe-client")
    item = next(i for i in pane.model.ids() if pane.model.value(i, "name") == "pppoe-isp")
    dialog = win.open_item("/interface/pppoe-client", item)
    dialog.move(380, 120)
    dialog.tabs.setCurrentWidget(dialog.live.status)
    await settle(4.0)
    shoot("pppoe-status.png")
    dialog.close()

    # 6. a traffic graph window from the Interfaces table's row menu
    ifaces = win.open_path("/interface")
    pane = ifaces.pane("/interface")
    ether1 = next(i for i in pane.model.ids() if pane.model.value(i, "name") == "ether1")
    graph: TrafficWindow = pane.live.traffic(ether1)
    graph.move(420, 200)
    graph.resize(620, 340)
    await settle(25.0)
    shoot("traffic.png")
    graph.close()

    # 7. ZeroTier peers, live
    zt = win.open_path("/zerotier/peer")
    zt.parentWidget().setGeometry(30, 320, 900, 260)
    zt.pane("/zerotier/peer")
    await settle(3.0)
    shoot("zerotier-peers.png")

    # 8. System > Resources
    res = win.open_path("/system/resource")
    res.move(640, 90)
    await settle(2.0)
    shoot("resources.png")
    res.close()

    # 9. System > License and Renew License, on the project's account server
    server = AccountServer(tmp_path)
    try:
        await session.set("/system/license", None, {"license-server": server.address,
                                                     "license-server-key": server.public_key})
        lic = win.open_path("/system/license")
        lic.move(360, 160)
        await settle(1.0)
        shoot("license.png")
        renew = lic.renew()
        renew.move(520, 330)
        renew.account.setText("mymikrotikcomaccount")
        renew.password.setText("secret")
        renew.level.setEditText("p1")
        renew.start_button.click()
        for _ in range(300):
            if renew.outcome:
                break
            await asyncio.sleep(0.1)
        await settle(1.0)
        shoot("renew-license.png")
        renew.close()
        await settle(1.0)
        shoot("license-p1.png")
        lic.close()
    finally:
        server.stop()


if __name__ == "__main__":
    from winbox_py.app import make_app
    app, loop = make_app()
    with loop:
        sys.exit(loop.run_until_complete(main()))
