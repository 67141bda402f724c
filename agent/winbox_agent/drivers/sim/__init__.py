"""The simulated router (``--driver sim``): core plus one behaviour module per area."""

from .core import SimDriver

__all__ = ["SimDriver"]
