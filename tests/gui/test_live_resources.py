"""System > Resources against the real sim agent: live figures in a window,
greyed and marked stopped while the connection is lost, and its feed gone
from the agent once the window closes."""

from __future__ import annotations

from tests.gui.conftest import main_window, poll, until, uptime_seconds
from winbox_py.views.resourcewindow import ResourceWindow


async def _resource_subscribers(session) -> int:
    feeds = (await session.stats())["feeds"]
    return sum(f["subscribers"] for f in feeds if f["path"] == "/system/resource")


def test_the_resources_window_is_live_from_the_menu_tree(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        entry = win.tree.entry("System/Resources")
        assert entry is not None
        res = win.open_entry(entry)
        assert isinstance(res, ResourceWindow) and res.windowTitle() == "Resources"
        assert win.open_entry(entry) is res  # one window, brought forward
        await until(lambda: res.value("uptime"), what="the figures")
        assert res.value("board-name") == "CHR" and res.value("architecture-name") == "x86_64"
        assert res.value("total-memory") == "1.0 GiB" and res.value("free-memory").endswith("MiB")
        assert res.value("cpu-load").endswith("%")
        assert 0 <= res.bars["cpu"].value() <= 100 and 0 < res.bars["memory"].value() < 100
        assert 0 < res.bars["hdd"].value() < 100
        first = uptime_seconds(res.value("uptime"))
        await until(lambda: uptime_seconds(res.value("uptime")) >= first + 2, what="the uptime to count", timeout=10)
        # the resources bar along the bottom shows the same router
        assert win.resources.cpu.text().startswith("CPU: ") and win.resources.uptime.text() != "Uptime: -"
        res.ok_button.click()
        # only the bar's own feed is left on the agent
        await poll(lambda: _resource_subscribers(session), lambda n: n == 1)
        assert await _resource_subscribers(session) == 1
        win.close()
    run(scenario())


def test_the_resources_window_greys_while_the_connection_is_lost(run, open_session, qtbot):
    async def scenario():
        session, win = await main_window(open_session, qtbot)
        res = win.open_path("/system/resource")
        await until(lambda: res.feed.state == "live", what="live figures")
        assert res.labels["uptime"].isEnabled() and not res.state_label.isVisible()
        session._client.transport.kill()
        await until(lambda: res.state_label.text() == "stopped \u2014 connection lost", what="the loss", timeout=20)
        assert res.state_label.isVisible()
        assert not res.labels["uptime"].isEnabled() and not res.bars["cpu"].isEnabled()
        await until(lambda: res.feed.state == "live", what="live again", timeout=30)
        assert res.labels["uptime"].isEnabled() and not res.state_label.isVisible()
        win.close()
    run(scenario(), timeout=90)
