# Junction as a sidecar container (docs/OPERATIONS.md, "Container"). Untested in this project's
# CI: its machines have no Docker engine. Build and run:
#   docker build -t junction .
#   docker run --rm -p 8080:8080 junction
# The image serves config/container.json: realm1 on a universal port 0.0.0.0:8080 (WebSocket at
# /ws, RawSocket, /healthz /readyz /metrics for the pod's probes). Mount your own config over
# /etc/junction/junction.json; `docker kill -s HUP` reloads it, `docker stop` drains calls.

FROM debian:bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ meson ninja-build pkg-config git libboost-dev libwebsocketpp-dev libmsgpack-cxx-dev \
      rapidjson-dev libssl-dev libargon2-dev doctest-dev ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN meson setup /build --buildtype=release && meson compile -C /build router/junction \
    && /build/router/junction --check-config config/container.json

FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libssl3 libargon2-1 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/router/junction /usr/local/bin/junction
COPY config/container.json /etc/junction/junction.json
USER nobody
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/junction"]
CMD ["--config", "/etc/junction/junction.json"]
