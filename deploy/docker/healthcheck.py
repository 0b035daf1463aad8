"""Container health check: exit 0 when the service's `/healthz` answers 200, 1 otherwise.

Slim Python images have no curl; this uses only the standard library. The port comes from
the service's own variable (`healthcheck.py ENCODER_PORT`), so overriding the port in the
environment keeps the check right. `/healthz`, not `/readyz`: the process is up once
uvicorn answers (the lifespan has loaded the model or shards); readiness of dependencies
is the orchestrator's business (Kubernetes probes `/readyz`), and a container must not be
marked unhealthy because Redis blinked.
"""

import os
import sys
import urllib.request

port = os.environ[sys.argv[1]]
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError:
    sys.exit(1)
