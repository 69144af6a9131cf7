"""``cryptocheck serve``: cryptocheck as an HTTP service (see docs/serve.md).

- :mod:`.app` the Starlette application: authentication, limits, health, metrics;
  :mod:`.api` the ``/v1`` routes; :mod:`.dashboard` the server-rendered pages;
  :mod:`.openapi` the description served at ``/openapi.json``.
- :mod:`.storage` SQLite or PostgreSQL behind one small layer, with migrations;
  :mod:`.jobs` durable scan jobs under leases; :mod:`.schedules` scans re-run at intervals;
  :mod:`.estate` assets and findings indexed for queries and history.
- :mod:`.security` tokens, scopes, rate limits and the network allowlist;
  :mod:`.kinds` scan kinds and request validation; :mod:`.config` the settings.

Routes and jobs run the one pipeline, :func:`cryptocheck.run.scan`.
"""
