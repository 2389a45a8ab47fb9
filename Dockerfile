# syntax=docker/dockerfile:1
# Multi-stage: dependencies cached by cargo-chef, a slim non-root runtime.

FROM rust:1.95-slim-bookworm AS chef
RUN cargo install cargo-chef --locked
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --recipe-path recipe.json --bin switchboard
COPY . .
RUN cargo build --release --locked --bin switchboard

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/switchboard --create-home switchboard
COPY --from=builder /app/target/release/switchboard /usr/local/bin/switchboard
# Migrations and the default config are built into the binary; the files are
# shipped too, for operators to read and to overlay.
COPY config /etc/switchboard/config
COPY migrations /etc/switchboard/migrations
USER switchboard
WORKDIR /var/lib/switchboard
ENV SWITCHBOARD_CONFIG=/etc/switchboard/config/production.toml \
    SWITCHBOARD_DATA_DIR=/var/lib/switchboard
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/switchboard"]
CMD ["serve"]
