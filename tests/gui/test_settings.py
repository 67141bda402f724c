"""Remembered layout survives a restart and a damaged file never stops the program."""

from __future__ import annotations

from winbox_py.backend.settings import Settings


def test_columns_and_open_windows_are_remembered_per_router(tmp_path):
    s = Settings(tmp_path / "layout.json")
    s.set_columns("admin@192.0.2.1", "/ip/address", [".flags", "address", "interface"])
    s.set_open_windows("admin@192.0.2.1", ["/ip/address", "/interface"])
    s.window("admin@192.0.2.1", "/ip/address")["geometry"] = [10, 20, 600, 300]
    s.save()
    again = Settings(tmp_path / "layout.json")
    assert again.columns("admin@192.0.2.1", "/ip/address") == [".flags", "address", "interface"]
    assert again.open_windows("admin@192.0.2.1") == ["/ip/address", "/interface"]
    assert again.window("admin@192.0.2.1", "/ip/address")["geometry"] == [10, 20, 600, 300]
    assert again.columns("other@198.51.100.1", "/ip/address") is None
    assert (tmp_path / "layout.json").stat().st_mode & 0o777 == 0o600


def test_a_damaged_file_is_set_aside(tmp_path):
    (tmp_path / "layout.json").write_text("{not json")
    s = Settings(tmp_path / "layout.json")
    assert s.data == {}
    assert (tmp_path / "layout.json.bad").read_text() == "{not json"
    s.set_open_windows("demo", ["/log"])
    s.save()
    assert Settings(tmp_path / "layout.json").open_windows("demo") == ["/log"]
