"""(being written)"""

from .area import Area


class Ppp(Area):
    """(being written)"""

    key = "ppp"
