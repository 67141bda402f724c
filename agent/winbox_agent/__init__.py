"""winbox-agent: the on-device half of winbox-py.

It owns a RouterOS-style configuration (menus, store), applies it to the
system through a driver (``sim`` or ``linux``) and speaks the RouterOS command
language.  Standard library only; runs on Python 3.9 and newer.
"""

__version__ = "0.1.0"
