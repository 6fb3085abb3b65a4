"""Prometheus text exposition, kept in-process: request counts and latencies, events recorded."""

from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency: dict[tuple[str, str], list[float]] = {}
        self.latency_sum: dict[tuple[str, str], float] = defaultdict(float)
        self.events_recorded = 0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            counts = self.latency.setdefault((method, route), [0.0] * (len(BUCKETS) + 1))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[i] += 1
            counts[-1] += 1
            self.latency_sum[(method, route)] += seconds

    def recorded(self, n: int = 1) -> None:
        with self._lock:
            self.events_recorded += n

    def render(self, lags: list[tuple[str, int, float]]) -> str:
        req, dur = "staffel_http_requests_total", "staffel_http_request_duration_seconds"
        lines = [
            f"# HELP {req} HTTP requests by route and status.",
            f"# TYPE {req} counter",
        ]
        with self._lock:
            for (method, route, status), count in sorted(self.requests.items()):
                lines.append(
                    f'{req}{{method="{method}",route="{route}",status="{status}"}} {count}'
                )
            lines += [f"# HELP {dur} Request latency.", f"# TYPE {dur} histogram"]
            for (method, route), counts in sorted(self.latency.items()):
                labels = f'method="{method}",route="{route}"'
                for bound, observed in zip(BUCKETS, counts, strict=False):
                    lines.append(f'{dur}_bucket{{{labels},le="{bound}"}} {observed:.0f}')
                total = counts[-1]
                lines += [
                    f'{dur}_bucket{{{labels},le="+Inf"}} {total:.0f}',
                    f"{dur}_sum{{{labels}}} {self.latency_sum[(method, route)]:.6f}",
                    f"{dur}_count{{{labels}}} {total:.0f}",
                ]
            lines += [
                "# HELP staffel_events_recorded_total Case events recorded by this process.",
                "# TYPE staffel_events_recorded_total counter",
                f"staffel_events_recorded_total {self.events_recorded}",
            ]
        lines += [
            "# HELP staffel_projection_lag_events Events a projection is behind the store.",
            "# TYPE staffel_projection_lag_events gauge",
            *(f'staffel_projection_lag_events{{projection="{n}"}} {b}' for n, b, _ in lags),
            "# HELP staffel_projection_lag_seconds Age of the oldest unprocessed event.",
            "# TYPE staffel_projection_lag_seconds gauge",
            *(f'staffel_projection_lag_seconds{{projection="{n}"}} {s:.3f}' for n, _, s in lags),
        ]
        return "\n".join(lines) + "\n"
