"""(being written)"""

from .area import Area


class OpenVpn(Area):
    """(being written)"""

    key = "openvpn"
