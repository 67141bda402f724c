"""(being written)"""

from .area import Area


class ZeroTier(Area):
    """(being written)"""

    key = "zerotier"
