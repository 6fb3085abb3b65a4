"""Prometheus metrics through ``prometheus-client``: request counts and latencies, events recorded,
and at each scrape the projections' lag.

``staffel serve`` runs several HTTP worker processes (ADR 0013) and points
``PROMETHEUS_MULTIPROC_DIR`` at a private directory of its own: each worker then keeps its
counts in files there and a scrape, answered by any worker, sums every worker's, the dead ones'
included (a counter never goes down when a worker is replaced). Without that variable (the tests'
in-process apps) each app counts in a registry of its own."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from adapters.metrics_dir import alive

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def shared_dir() -> str | None:
    """The directory the HTTP workers share their counts in (None: this process counts alone)."""
    return os.environ.get(MULTIPROC_DIR) or None


class Metrics:
    def __init__(self) -> None:
        # no ``_created`` series beside the counts
        prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
        self._shared = shared_dir()
        # shared: the values live in the directory's files; alone: in this registry
        self._own = None if self._shared else CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "staffel_http_requests_total",
            "HTTP requests by route and status.",
            ("method", "route", "status"),
            registry=self._own,
        )
        self.latency = Histogram(
            "staffel_http_request_duration_seconds",
            "Request latency.",
            ("method", "route"),
            buckets=BUCKETS,
            registry=self._own,
        )
        self.events = Counter(
            "staffel_events_recorded_total",
            "Case events recorded by this server's HTTP workers.",
            registry=self._own,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def recorded(self, n: int = 1) -> None:
        self.events.inc(n)

    def render(self, lags: list[tuple[str, int, float]]) -> bytes:
        registry = CollectorRegistry(auto_describe=False)
        if self._shared:
            multiprocess.MultiProcessCollector(registry, path=self._shared)  # type: ignore[no-untyped-call]
        elif self._own is not None:
            registry.register(_Of(self._own))
        registry.register(_Lags(lags))
        return generate_latest(registry)

    def forget_dead_workers(self) -> None:
        """Mark the workers whose files are here but whose process is gone as dead (a worker
        killed without its shutdown; uvicorn started this one in its place)."""
        if not self._shared:
            return
        for pid in _pids_in(self._shared):
            if pid != os.getpid() and not alive(pid):
                multiprocess.mark_process_dead(pid, self._shared)  # type: ignore[no-untyped-call]

    def worker_stopped(self) -> None:
        if self._shared:
            multiprocess.mark_process_dead(os.getpid(), self._shared)  # type: ignore[no-untyped-call]


class _Of(Collector):
    """An app's own registry, collected into the scrape's."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


class _Lags(Collector):
    """The projections' lag, measured for this scrape (not kept between scrapes)."""

    def __init__(self, lags: list[tuple[str, int, float]]) -> None:
        self.lags = lags

    def collect(self) -> Iterator[Metric]:
        events = GaugeMetricFamily(
            "staffel_projection_lag_events",
            "Events a projection is behind the store.",
            labels=["projection"],
        )
        seconds = GaugeMetricFamily(
            "staffel_projection_lag_seconds",
            "Age of the oldest unprocessed event.",
            labels=["projection"],
        )
        for name, behind, age in self.lags:
            events.add_metric([name], behind)
            seconds.add_metric([name], age)
        yield events
        yield seconds


def _pids_in(path: str) -> set[int]:
    pids = set()
    for name in os.listdir(path):  # e.g. counter_1234.db, histogram_1234.db
        stem = name.removesuffix(".db").rsplit("_", 1)[-1]
        if stem.isdigit():
            pids.add(int(stem))
    return pids
