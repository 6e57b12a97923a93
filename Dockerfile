# One image for every part of the platform: `iod api`, `iod worker`, `iod migrate`
# (and the support commands, e.g. `iod orders show ID`). See docs/deployment.md.

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: a virtualenv holding the project and its runtime dependencies -------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/iod
ENV PATH=/opt/iod/bin:$PATH

WORKDIR /src

# Dependencies first, read from pyproject.toml, so that a code change does not
# reinstall them (their layer stays cached until pyproject.toml changes).
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt

# Optional extras, e.g. `docker compose build --build-arg PIP_EXTRAS=tracing`.
# Never the `dev` extra: tests and linters stay out of the image.
ARG PIP_EXTRAS=""
COPY api ./api
COPY activities ./activities
COPY cli ./cli
COPY config ./config
COPY domain ./domain
COPY embedded ./embedded
COPY provisioning ./provisioning
COPY store ./store
COPY telemetry ./telemetry
COPY worker ./worker
COPY workflows ./workflows
RUN case ",${PIP_EXTRAS}," in *,dev,*) echo "the dev extra does not belong in the image" >&2; exit 1;; esac \
 && pip install ".${PIP_EXTRAS:+[${PIP_EXTRAS}]}" \
 && iod --help > /dev/null

# --- runtime: the virtualenv, no sources, no compilers, a non-root user ------------------
FROM ${PYTHON_IMAGE}

ENV PATH=/opt/iod/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    IOD_API_HOST=0.0.0.0 \
    IOD_API_PORT=8000 \
    IOD_DATA_DIR=/home/iod/.iod-data

RUN groupadd --system --gid 10001 iod \
 && useradd --system --uid 10001 --gid iod --create-home --home-dir /home/iod iod

COPY --from=build /opt/iod /opt/iod

USER iod:iod
WORKDIR /home/iod

EXPOSE 8000

# No HEALTHCHECK here: the same image runs the API, the workers and the one-shot
# migration, so each compose service declares the check that fits it.
ENTRYPOINT ["iod"]
CMD ["api"]
