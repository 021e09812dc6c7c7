# kubernaut-server image: `docker build -t kubernaut .`
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p kubernaut-server

FROM debian:bookworm-slim
RUN useradd --system --home /var/lib/kubernaut --create-home kubernaut
COPY --from=build /src/target/release/kubernaut-server /usr/local/bin/kubernaut-server
COPY config /etc/kubernaut
USER kubernaut
WORKDIR /var/lib/kubernaut
ENV KUBERNAUT__SERVER__LISTEN=0.0.0.0:8080 \
    KUBERNAUT__DATABASE__URL=sqlite:///var/lib/kubernaut/kubernaut.db
EXPOSE 8080
ENTRYPOINT ["kubernaut-server", "--config", "/etc/kubernaut/default.toml"]
