"""winbox-py: a WinBox-style desktop configurator for Linux routers, over SSH."""

__version__ = "0.1.0"
