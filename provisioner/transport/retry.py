"""How hard one API call tries: attempts, a total time budget, capped exponential backoff with full jitter.

Shared by every API client (Paragon, Microsoft Graph). ``Retry-After`` is honoured in seconds or as an HTTP
date (RFC 9110, section 10.2.3).
"""

from __future__ import annotations

import email.utils
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one call.

    Attributes:
        max_attempts: Attempts per call, the first included.
        total_seconds: Budget for one call including waits; no wait is started that would end past it.
        base_delay: First backoff ceiling in seconds; doubles per attempt (full jitter below it).
        max_delay: Cap on one backoff wait, in seconds.
        sleep: Waits (injectable for tests).
        clock: Monotonic seconds (injectable for tests).
        rng: Jitter source (injectable for deterministic tests).
    """

    max_attempts: int = 6
    total_seconds: float = 120.0
    base_delay: float = 0.5
    max_delay: float = 20.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        """Wait before attempt ``attempt + 1``: uniform in [0, min(max_delay, base_delay * 2**(attempt-1))]."""
        return self.rng.uniform(0.0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]{1,6}", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
