"""Portals and bodies: their files, themes, areas and membership, the one query-scoping helper,
links to a portal and its admin tokens."""

# Importing any part of tenancy installs the data-version and settings-stamp listeners on every
# portal session: no process can write a row a public page shows without moving its portal's
# version, nor a portal's setting without moving the stamp every process checks.
from portal.tenancy import data_version, settings_stamp  # noqa: E402, F401
