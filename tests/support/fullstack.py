"""The whole system as real processes: `deploy.harness.fullstack`, under the name tests used first."""

from deploy.harness.fullstack import (
    DEMO_CHECKPOINT,
    REPO,
    RunningStack,
    ShapeImage,
    demo_model,
    full_stack,
    vishapes,
)

__all__ = ["DEMO_CHECKPOINT", "REPO", "RunningStack", "ShapeImage", "demo_model", "full_stack", "vishapes"]
