"""The encoder's own Prometheus series, on the app's registry next to the request metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
FORWARD_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class EncoderMetrics:
    """Batch sizes show whether micro-batching works; queue depth shows whether the model keeps up."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.batch_size = Histogram(
            "encoder_batch_size",
            "Items per model forward",
            ["kind"],
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.forward_seconds = Histogram(
            "encoder_forward_seconds",
            "Time of one model forward",
            ["kind"],
            buckets=FORWARD_BUCKETS,
            registry=registry,
        )
        self.queue_depth = Gauge(
            "encoder_queue_depth", "Items waiting for a forward", ["kind"], registry=registry
        )
        self.items = Counter("encoder_items_total", "Items embedded", ["kind"], registry=registry)
        self.rejected = Counter(
            "encoder_rejected_items_total",
            "Items refused, by error code",
            ["kind", "code"],
            registry=registry,
        )
