"""Menus of this area (being written)."""
