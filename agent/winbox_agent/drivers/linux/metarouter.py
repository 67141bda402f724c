"""(being written)"""

from .area import Area


class MetaRouter(Area):
    """(being written)"""

    key = "metarouter"
