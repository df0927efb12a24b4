"""Portals and bodies: their files, themes, areas and membership, the one query-scoping helper,
links to a portal and its admin tokens."""

# Importing any part of tenancy installs the data-version listeners on every portal session:
# no process can write a row a public page shows without moving its portal's version.
from portal.tenancy import data_version  # noqa: E402, F401
