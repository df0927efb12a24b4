"""Open311 GeoReport v2: what a portal offers to 311 apps, FixMyStreet and back offices.

Plain functions that know nothing of HTTP: the documents' two formats (`documents`), W3C
dates (`dates`), the services a portal offers and their attributes (`services`), the request
query (`queries`), reading requests (`reading`), filing one through `submit_report`
(`filing`, with `media_fetch` for `media_url`), API keys (`api_keys`) and FixMyStreet's
`servicerequestupdates` (`service_updates`). The handlers are in `portal/routes/open311.py`.

The client side, for bodies that work in their own Open311 system: `delivery` (new reports
through the outbox), `endpoint` (the HTTP calls) and `polling` (their progress back).
"""
