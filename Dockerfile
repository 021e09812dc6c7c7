# kubernaut-server image: `docker build -t kubernaut .`
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p kubernaut-server

FROM debian:bookworm-slim
# The shared libraries the binary links beyond libc (`ldd`: libssl.so.3 and libcrypto.so.3, for
# the bundled libpq; .ci/check-runtime-libs checks this list against ldd), and CA certificates
# for TLS to databases and clusters that use a public CA.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 \
    && rm -rf /var/lib/apt/lists/*
# A fixed numeric user, so that Kubernetes can check runAsNonRoot (deploy/kubernetes runs it
# as 10001).
RUN groupadd --gid 10001 kubernaut \
    && useradd --uid 10001 --gid kubernaut --no-log-init --home-dir /var/lib/kubernaut \
        --create-home --shell /usr/sbin/nologin kubernaut
COPY --from=build /src/target/release/kubernaut-server /usr/local/bin/kubernaut-server
COPY config /etc/kubernaut
USER 10001:10001
WORKDIR /var/lib/kubernaut
ENV KUBERNAUT__SERVER__LISTEN=0.0.0.0:8080 \
    KUBERNAUT__DATABASE__URL=sqlite:///var/lib/kubernaut/kubernaut.db
EXPOSE 8080
ENTRYPOINT ["kubernaut-server", "--config", "/etc/kubernaut/default.toml"]
