"""A certificate's validity period, in the words policies test it: the lifetime in days
(CA/B Forum BR §6.3.2), and, on a given day, whether it has expired, is not yet valid, and how
many days it has left.

One definition for every path: the normal path's usages (:mod:`.usages`), the policy engine's
computed fields (``expired``, ``not_yet_valid``, ``days_to_expiry``) and the bulk path, whose
C scanner measures only seconds and buckets them by breakpoints
(:func:`cryptocheck.bulk.compiled.breakpoints`) found by bisection on these functions.
Time is POSIX time: a day is 86,400 s, leap seconds do not exist in it.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

DAY_SECONDS = 86_400  # a day of POSIX time: leap seconds do not exist in it


def lifetime_days(not_before: datetime, not_after: datetime) -> int:
    """Validity period in days as the CA/B Forum counts it (BR §6.3.2 and §1.6.1 "Validity
    Period": from notBefore to notAfter inclusive; a day is 86,400 s and any part of a day
    counts as a whole one). See :func:`lifetime_days_of_span`, which this is.

    >>> from datetime import UTC
    >>> lifetime_days(datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, 23, 59, 59, tzinfo=UTC))
    1
    """
    # ceil(x / n) == ceil(ceil(x) / n) for a whole n: a fraction of a second (which RFC 5280
    # forbids anyway) counts as the whole second it begins.
    return lifetime_days_of_span(math.ceil((not_after - not_before).total_seconds()))


def lifetime_days_of_span(span_seconds: int) -> int:
    """The lifetime in days of a certificate whose notAfter is ``span_seconds`` after its
    notBefore: the one definition, which the bulk path's C scanner uses too (it measures only
    the span; the breakpoints it buckets spans by are computed from this function).

    Why it matters: a 398-day limit (BR §6.3.2) is met by ``notAfter = notBefore + 398 days
    - 1 s`` and broken one second later; a period that ends before it starts is 0 days.

    >>> [lifetime_days_of_span(s) for s in (-5, -1, 0, 86_399, 86_400)]
    [0, 0, 1, 1, 2]
    """
    return max(0, -(-(span_seconds + 1) // DAY_SECONDS))


def day_start(as_of: date) -> datetime:
    """00:00 UTC of ``as_of``: the instant a policy evaluation ``as of`` that day looks at."""
    return datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)


def expired(not_after: datetime, as_of: date) -> bool:
    """Whether a certificate valid until ``not_after`` has expired on ``as_of``."""
    return not_after < day_start(as_of)


def not_yet_valid(not_before: datetime, as_of: date) -> bool:
    """Whether a certificate valid from ``not_before`` is not yet valid on ``as_of``."""
    return not_before > day_start(as_of)


def days_to_expiry(not_after: datetime, as_of: date) -> int:
    """Whole days from ``as_of`` to ``not_after`` (negative once expired).

    >>> days_to_expiry(datetime(2026, 1, 31, 12, tzinfo=UTC), date(2026, 1, 1))
    30
    """
    return (not_after - day_start(as_of)).days
