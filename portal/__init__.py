"""Reportal: a multi-tenant, white-label server for reporting neighbourhood problems.

`create_app(settings)` in `portal.app` builds the ASGI application; `portal.cli` is the
`portal` command. Domain logic lives in plain modules (`reporting`, `routing`, `voting`,
`status`, ...) that know nothing of HTTP.
"""
