"""A token-bucket rate limiter keyed by client address, for the public, login-free pages.

The evaluation page and the incident-status page accept codes from anyone; the limiter makes
guessing codes slow on top of their entropy (:mod:`governance.codes`). Each key (an address,
see :func:`address_key`) has a bucket of ``capacity`` tokens that refills continuously at
``capacity / period_s`` tokens a second; an attempt costs one token (give a failed attempt a
higher ``cost`` to slow guessing more than honest use). The clock is injected
(``time.monotonic`` by default) so tests drive it by hand.

The state lives in memory, per process: nothing about an address is written anywhere, and
addresses are never stored next to a response.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["RateLimiter", "address_key"]


def address_key(address: str | None) -> str:
    """The key an address is limited under: IPv4 as is, IPv6 by its /64 network.

    A single IPv6 subscriber usually holds a whole /64 and can change addresses inside it at
    will, so the /64 is the unit. Text that is not an IP address is used as it is (trimmed);
    ``None`` or empty text is ``"unknown"`` (all such clients share one bucket).
    """
    text = (address or "").strip()
    if not text:
        return "unknown"
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass
class RateLimiter:
    """Token buckets per key.

    Parameters
    ----------
    capacity:
        Attempts allowed in a burst (default 10).
    period_s:
        Seconds to refill an empty bucket completely (default 600: 10 attempts per 10 min).
    clock:
        Monotonic seconds (default :func:`time.monotonic`).
    max_keys:
        Buckets kept at most; when exceeded, full (idle) buckets are dropped first.
    """

    capacity: float = 10.0
    period_s: float = 600.0
    clock: Callable[[], float] = time.monotonic
    max_keys: int = 100_000
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.capacity > 0 or not self.period_s > 0:
            raise ValueError(
                f"capacity ({self.capacity}) and period_s ({self.period_s}) are expected to be positive"
            )

    @property
    def rate(self) -> float:
        """Tokens regained per second."""
        return self.capacity / self.period_s

    def _level(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (self.capacity, now))
        return min(self.capacity, tokens + max(0.0, now - at) * self.rate)

    def allow(self, key: str, cost: float = 1.0) -> bool:
        """Take ``cost`` tokens from ``key``'s bucket if it holds them; False (nothing taken) if not."""
        with self._lock:
            now = self.clock()
            tokens = self._level(key, now)
            allowed = tokens >= cost
            self._buckets[key] = (tokens - cost if allowed else tokens, now)
            if len(self._buckets) > self.max_keys:
                self._prune(now)
            return allowed

    def retry_after(self, key: str, cost: float = 1.0) -> float:
        """Seconds until ``key`` may spend ``cost`` tokens (0 when it may now)."""
        with self._lock:
            missing = cost - self._level(key, self.clock())
        return max(0.0, missing / self.rate)

    def reset(self, key: str) -> None:
        """Forget ``key`` (a full bucket again)."""
        with self._lock:
            self._buckets.pop(key, None)

    def __len__(self) -> int:
        return len(self._buckets)

    def _prune(self, now: float) -> None:
        full = [k for k in self._buckets if self._level(k, now) >= self.capacity]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) > self.max_keys:  # still too many: drop the longest idle
            oldest = sorted(self._buckets, key=lambda k: self._buckets[k][1])
            for key in oldest[: len(self._buckets) - self.max_keys]:
                del self._buckets[key]
