"""Send-rate limits: one limiter per sender (the channel as a whole) and, optionally, per recipient.

Built on aiolimiter's leaky bucket. A rate of 0 turns a limit off (benchmarks, local fakes).
"""

from __future__ import annotations

from collections import OrderedDict

from aiolimiter import AsyncLimiter

# Per-recipient limiters are kept for the most recent recipients only; an evicted one has long
# since refilled, so dropping it loses nothing.
_MAX_RECIPIENTS = 10_000


def _limiter(rate: float) -> AsyncLimiter | None:
    if rate <= 0:
        return None
    # For rates under 1/s use one message per 1/rate seconds rather than a fractional bucket.
    if rate < 1:
        return AsyncLimiter(1, 1 / rate)
    return AsyncLimiter(rate, 1)


class Throttle:
    """`await throttle.acquire(recipient)` waits until both limits allow one more message."""

    def __init__(self, overall_rate: float, per_recipient_rate: float = 0.0) -> None:
        self.overall_rate = overall_rate
        self.per_recipient_rate = per_recipient_rate
        self._overall = _limiter(overall_rate)
        self._recipients: OrderedDict[str, AsyncLimiter] = OrderedDict()

    async def acquire(self, recipient: str) -> None:
        if self.per_recipient_rate > 0:
            limiter = self._recipients.get(recipient)
            if limiter is None:
                limiter = _limiter(self.per_recipient_rate)
                assert limiter is not None
                self._recipients[recipient] = limiter
                if len(self._recipients) > _MAX_RECIPIENTS:
                    self._recipients.popitem(last=False)
            else:
                self._recipients.move_to_end(recipient)
            await limiter.acquire()
        if self._overall is not None:
            await self._overall.acquire()
