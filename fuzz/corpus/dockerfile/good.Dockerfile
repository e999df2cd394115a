# syntax=docker/dockerfile:1.7
# A multi-stage build that follows the rules: nothing may fire here.
ARG GO_VERSION=1.22.5
FROM golang:${GO_VERSION}-bookworm@sha256:1a7f4d5e8c2b9a0f3e6d7c8b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/go/pkg/mod go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/server ./cmd/server

FROM debian:12-slim@sha256:2b5c8e1f4a7d0c3b6e9f2a5d8c1b4e7a0d3f6c9b2e5a8d1c4f7b0e3a6d9c2f5b AS certs
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && ls /etc/ssl/certs | wc -l

FROM gcr.io/distroless/static-debian12:nonroot@sha256:3c6d9f2a5b8e1d4c7f0a3b6e9d2c5f8b1e4a7d0c3f6b9e2a5d8c1f4b7e0a3d6c
LABEL org.opencontainers.image.source="https://github.com/acme/server" \
      org.opencontainers.image.authors="ops@example.com"
COPY --from=certs /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/server /server
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=30s CMD ["/server", "-healthcheck"]
ENTRYPOINT ["/server"]
