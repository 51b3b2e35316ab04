# Multi-stage build of rosefed.
#   docker build -t rosefed .                       # the hub
#   docker build --target tester -t rosefed-tests . # the federation tests
FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin rosefed \
 && cargo test --release --locked -p federation-tests --test federation --no-run

# The federation tests, run against two running instances given by
# ROSEFED_{A,B}_{URL,TOKEN}.
FROM builder AS tester
ENV ROSEFED_BIN=/src/target/release/rosefed
CMD ["cargo", "test", "--release", "--locked", "-p", "federation-tests", "--test", "federation", "--", "--test-threads=1"]

FROM debian:bookworm-slim AS hub
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/rosefed --create-home rosefed
COPY --from=builder /src/target/release/rosefed /usr/local/bin/rosefed
USER rosefed
WORKDIR /var/lib/rosefed
ENV ROSEFED_DATA_DIR=/var/lib/rosefed/data \
    ROSEFED_BIND=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --retries=20 CMD curl -fsS http://127.0.0.1:8080/health || exit 1
ENTRYPOINT ["rosefed"]
CMD ["serve"]
