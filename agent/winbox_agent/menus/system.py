"""/system identity, resource, license."""

from ..schema import Prop, menu
from ..types import Name

menu("/system/identity", [
    Prop("name", Name(max_len=255), default="MikroTik", doc="Name of the router (shown in the prompt and to neighbors)."),
], single=True, title="Identity", group="System", doc="The router's name.")
