"""The linux driver (``--driver linux``): core plus one module per area."""

from .core import LinuxDriver

__all__ = ["LinuxDriver"]
