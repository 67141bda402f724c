"""Drivers make the system match the configuration and report live state."""

from typing import Any

from ..errors import RouterError


def make_driver(name: str, router: Any, **options: Any):
    if name == "sim":
        from .sim import SimDriver
        return SimDriver(router, **options)
    if name == "linux":
        try:
            from .linux import LinuxDriver
        except ImportError:
            raise RouterError("the linux driver is not available in this build", "general") from None
        return LinuxDriver(router, **options)
    raise RouterError("unknown driver %s (allowed: sim, linux)" % name, "argument", "driver")
