# One image for every Peerline service, the web portal too; each container picks its
# service by command (`python -m services.<name>`, see deploy/compose.yaml).
#
# PYTHON_IMAGE: any Debian-based Python 3.11 image with venv; the official one by default.
# WHEELS: a directory in the build context with wheels built beforehand. With
# PIP_OPTIONS=--no-index nothing is fetched from the index during the build, which is
# how machines without HTTPS to PyPI from inside a build make the image
# (deploy/build-local-images.sh). Left empty, pip fetches what it needs.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# 1. Wheels of the project with every service's extra and the operators' tools (`ops`:
#    `docker compose exec <service> peerline ...`), and of their dependencies.
FROM ${PYTHON_IMAGE} AS wheels
ARG WHEELS=deploy/wheels
ARG PIP_OPTIONS=
WORKDIR /src
COPY ${WHEELS}/ /wheels/
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY peerline ./peerline
RUN python3 -m venv /tmp/pip \
 && /tmp/pip/bin/pip wheel --quiet --disable-pip-version-check ${PIP_OPTIONS} \
      --find-links /wheels --wheel-dir /wheels ".[incidents,roster,checkins,notify,metrics,portal,ops]"

# 2. A virtual environment with those wheels, nothing fetched.
FROM ${PYTHON_IMAGE} AS venv
COPY --from=wheels /wheels /wheels
RUN python3 -m venv /opt/peerline \
 && /opt/peerline/bin/pip install --quiet --disable-pip-version-check --no-index \
      --find-links /wheels "peerline[incidents,roster,checkins,notify,metrics,portal,ops]"

# 3. The runtime: the venv only (no wheels, no compilers), run by an unprivileged user.
FROM ${PYTHON_IMAGE}
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/peerline --create-home \
      peerline
COPY --from=venv /opt/peerline /opt/peerline
ENV PATH=/opt/peerline/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PEERLINE_HOST=0.0.0.0 \
    PEERLINE_DATA_DIR=/var/lib/peerline
USER peerline
WORKDIR /var/lib/peerline
CMD ["python", "-m", "services.incidents"]
