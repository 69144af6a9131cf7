"""The bulk path: millions of certificates a run, with the normal path's findings.

``cryptocheck certs --bulk`` (and large inputs by themselves) come here. Modules: ``run``
(options, result, summary lines, :func:`bulk_scan`), ``jobs`` (units of work: files and
ranges of large bundles, read by workers or in order), ``merge`` (the parent: deduplication,
counts, lines written in input order), ``handover`` (how workers' lines reach the parent),
``reader`` and ``inputs`` (reading inputs, and the normal path for whatever the scanner hands
back), ``compiled`` (the policy compiled into certificate classes and date breakpoints),
``pyscan`` (the pure-Python scanner and merger; ``_fastcert.c`` is the optional C one),
``schema`` (JSON Schema of the output lines) and ``cli``. See docs/bulk.md.
"""

from cryptocheck.bulk.run import BulkOptions, BulkResult, bulk_scan

__all__ = ["BulkOptions", "BulkResult", "bulk_scan"]
