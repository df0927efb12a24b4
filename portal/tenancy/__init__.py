"""Portals and bodies: their files, themes, areas and membership, the one query-scoping helper,
links to a portal and its admin tokens."""
