# refillbot in a container: a static binary on distroless, as a non-root user.
#
#   docker build -t refillbot .
#   docker run -e TELEGRAM_BOT_TOKEN=... -v refillbot-data:/data refillbot
#
# deploy/docker-compose.yml runs it with a volume (and, in its "replicas"
# profile, on PostgreSQL); deploy/check verifies in CI that GO_VERSION matches
# go.mod and that the build command below yields a static binary.

# Keep in step with the go directive in go.mod (deploy/check fails otherwise).
ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so a code change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# build: static, no cgo, reproducible paths; main.version feeds refillbot_build_info.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/refillbot ./cmd/refillbot
# The data directory, owned by the image's non-root user (65532).
RUN mkdir -p /out/data && chown 65532:65532 /out/data && chmod 0700 /out/data

# distroless/static: CA certificates and time zones, no shell, no package
# manager; "nonroot" runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/refillbot /usr/local/bin/refillbot
COPY --from=build --chown=65532:65532 /out/data /data
ENV REFILLBOT_DB=/data/refillbot.db \
    REFILLBOT_METRICS_LISTEN=:9090 \
    REFILLBOT_LOG_FORMAT=json
USER 65532:65532
VOLUME ["/data"]
# 8080: REFILLBOT_LISTEN when set (webhooks); 9090: metrics and health, keep it private.
EXPOSE 8080 9090
# There is no curl in the image: the binary asks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/refillbot", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/refillbot"]
