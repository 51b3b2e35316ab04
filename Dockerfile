# rosefed images. One file serves two kinds of builder:
#
# With a registry (the usual case), everything builds from public images:
#   docker build -t rosefed .                         # the hub (last stage)
#   docker build --target tester -t rosefed-tests .   # the federation tests
#   docker build --target postgres -t rosefed-pg .    # Debian's PostgreSQL
#
# Without one, federation-tests/docker/build-images.sh makes a Debian base
# with debootstrap, builds the binaries on the host into
# federation-tests/docker/prebuilt/, and builds the *-prebuilt targets and
# `postgres` with --build-arg BASE_IMAGE=rosefed-base:<hash>.
#
# The classic builder (no BuildKit) builds every stage up to its target, so
# the stages the registry-free build needs come first and use nothing but
# BASE_IMAGE; and the prebuilt stages copy a directory that always exists
# (it holds only a README until build-images.sh fills it), so a classic
# build of the hub from public images passes through them harmlessly.

ARG BASE_IMAGE=debian:bookworm-slim
ARG RUST_IMAGE=rust:1-bookworm

# What every image runs on: the base plus curl (health checks) and CA
# certificates. A debootstrapped base has them already; a slim one gets them
# from apt.
FROM ${BASE_IMAGE} AS runtime
RUN if ! command -v curl >/dev/null || [ ! -e /etc/ssl/certs/ca-certificates.crt ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends ca-certificates curl \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
 && useradd --system --home /var/lib/rosefed --create-home rosefed

# PostgreSQL from Debian's packages, initialised on first start by
# postgres-entrypoint.sh (user, password and database from the environment).
FROM runtime AS postgres
RUN if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then \
      apt-get update \
      && apt-get install -y --no-install-recommends postgresql \
      && rm -rf /var/lib/apt/lists/*; \
    fi
COPY federation-tests/docker/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
EXPOSE 5432
# SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client.
STOPSIGNAL SIGINT
ENTRYPOINT ["postgres-entrypoint"]

# The hub's settings, shared by both ways of getting the binary, which
# lands in /opt/rosefed/bin.
FROM runtime AS hub-base
# Created here, owned by rosefed, so a volume mounted on it starts writable.
RUN install -d -o rosefed -g rosefed /var/lib/rosefed/data
WORKDIR /var/lib/rosefed
ENV PATH=/opt/rosefed/bin:$PATH \
    ROSEFED_DATA_DIR=/var/lib/rosefed/data \
    ROSEFED_BIND=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=2s --timeout=3s --retries=30 CMD curl -fsS http://127.0.0.1:8080/health || exit 1
USER rosefed
ENTRYPOINT ["rosefed"]
CMD ["serve"]

# The hub around a binary built on the host.
FROM hub-base AS hub-prebuilt
COPY federation-tests/docker/prebuilt/ /opt/rosefed/bin/

# The federation test binaries (federation, containers). The default
# command runs the two-instance flow against ROSEFED_{A,B}_{URL,TOKEN}.
FROM runtime AS tester-base
ENV PATH=/opt/rosefed/bin:$PATH
CMD ["federation", "--exact", "follow_publish_react_update_delete_unfollow"]

FROM tester-base AS tester-prebuilt
COPY federation-tests/docker/prebuilt/ /opt/rosefed/bin/

# --- From here on, stages for builders with a registry. ---

FROM ${RUST_IMAGE} AS builder
WORKDIR /src
COPY . .
RUN federation-tests/docker/build-binaries.sh /out

FROM tester-base AS tester
COPY --from=builder /out/ /opt/rosefed/bin/

# Last, so that a plain `docker build .` makes the hub.
FROM hub-base AS hub
COPY --from=builder /out/ /opt/rosefed/bin/
