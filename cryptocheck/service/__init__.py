"""``cryptocheck serve``: cryptocheck as an HTTP service (see docs/serve.md).

Imports go one way, from the application down to storage:

- :mod:`.app` the Starlette application: the body limit, health, metrics, the route tables;
  :mod:`.api` the table of ``/v1`` routes, whose handlers are in :mod:`.checks` (synchronous
  checks), :mod:`.scans` (scans and schedules) and :mod:`.queries` (the estate, policies);
  :mod:`.dashboard` the server-rendered pages; :mod:`.openapi` the description served at
  ``/openapi.json``; :mod:`.routing` what every route shares (errors, the caller's token,
  path and format helpers).
- :mod:`.worker` runs durable jobs; :mod:`.jobs` the job queue under leases;
  :mod:`.schedules` scans re-run at intervals; :mod:`.estate` assets and findings indexed
  for queries and history; :mod:`.storage` SQLite or PostgreSQL behind one small layer,
  with migrations.
- :mod:`.security` tokens, scopes, rate limits and the network allowlist;
  :mod:`.kinds` scan kinds and request validation; :mod:`.config` the settings.

Routes and jobs run the one pipeline, :func:`cryptocheck.run.scan`.
"""
