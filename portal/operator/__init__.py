"""The platform operators' pages at `/operator`: portals and bodies made from a form."""
