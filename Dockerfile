# The wechaty CLI (mock service, doctor, …) and the room bot example, in a small image.
#   docker build -t wechaty-client .
#   docker run --rm wechaty-client --help

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin wechaty --example room_bot \
    && mkdir /out \
    && cp target/release/wechaty target/release/examples/room_bot /out/

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --create-home wechaty
COPY --from=build /out/ /usr/local/bin/
COPY scenarios/ /usr/share/wechaty/scenarios/
USER wechaty
ENTRYPOINT ["wechaty"]
CMD ["--help"]
