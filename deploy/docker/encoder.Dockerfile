# syntax=docker/dockerfile:1
# Encoder service: text and image embeddings from one checkpoint (torch), CPU or CUDA.
#
# One file, two variants, chosen by TORCH_INDEX (build from the repository root):
#   CPU : docker build -f deploy/docker/encoder.Dockerfile -t timanh/encoder:cpu .
#   CUDA: docker build -f deploy/docker/encoder.Dockerfile --build-arg TORCH_INDEX= -t timanh/encoder:cuda .
# The same file builds the image of bulk embedding's Ray cluster (deploy/k8s/ray), which adds
# Ray and the indexer's code to the model, with EXTRAS:
#   docker build -f deploy/docker/encoder.Dockerfile --build-arg TORCH_INDEX= \
#       --build-arg EXTRAS=encoder,bulk -t timanh/encoder:cuda-bulk .
# The CPU variant takes torch from PyTorch's CPU index (`2.14.1+cpu` satisfies the pin
# `torch==2.14.1`), which saves about 4 GB of CUDA libraries. The CUDA variant takes
# PyPI's torch, which brings the CUDA 13 runtime as the `nvidia-*` wheels pinned in
# constraints.txt; the host needs only the NVIDIA driver and container toolkit, so no
# CUDA base image (and no second copy of the runtime) is needed.
FROM python:3.11-slim-bookworm

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ARG EXTRAS=encoder
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Dependencies only, so editing code does not reinstall torch. pyproject.toml names a
# README; an empty one stands in (the real one would invalidate this layer on every
# edit), and the empty `timanh` distribution pip builds is removed: the code lives in /app.
COPY pyproject.toml constraints.txt ./
RUN touch README.md \
    && pip install ${TORCH_INDEX:+--extra-index-url "$TORCH_INDEX"} -c constraints.txt ".[${EXTRAS}]" \
    && pip uninstall -y -q timanh \
    && rm -rf README.md build *.egg-info

# Weights are not baked in: a new model must not need a new image. ENCODER_MODEL names a
# checkpoint in object storage (`store:<prefix>`), a registered pretrained model, or a
# directory mounted at /app/checkpoints (docker compose mounts ./checkpoints there).
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home timanh \
    && mkdir -p /app/data /app/checkpoints \
    && chown timanh:timanh /app/data
COPY deploy/docker/healthcheck.py /usr/local/lib/timanh-healthcheck.py
COPY services/ services/
COPY imaging/ imaging/
COPY vi_clip/ vi_clip/

USER 10001:10001
# Hub downloads (pretrained backends) go to the data volume, which survives restarts. Idle OpenMP
# threads sleep instead of spinning: on a box the services share, spinning threads take the cores
# the gateway and search need (the Makefile sets the same for local runs).
ENV ENCODER_HOST=0.0.0.0 \
    OMP_WAIT_POLICY=PASSIVE \
    ENCODER_PORT=8101 \
    ENCODER_MODEL_CACHE_DIR=/app/data/model-cache \
    HF_HOME=/app/data/hf \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
VOLUME ["/app/data"]
EXPOSE 8101
# Loading a large model on first start can take a while: a generous start period.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "/usr/local/lib/timanh-healthcheck.py", "ENCODER_PORT"]
CMD ["python", "-m", "services.encoder"]
