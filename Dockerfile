# Image for groq_exporter: a static binary on a minimal base, run as nobody (65534).
#
# The binary is built outside the image, as the Prometheus projects build theirs (promu's
# .build/<os>-<arch>/ layout), so the image builds without a Go toolchain image and an
# arm64 image builds on an amd64 machine without emulation (no RUN step):
#   make docker                     # every architecture in DOCKER_ARCHS, tagged <version>
# or by hand:
#   make crossbuild PLATFORMS=linux/arm64
#   cp /etc/ssl/certs/ca-certificates.crt .build/     # CA bundle for HTTPS to Groq
#   DOCKER_BUILDKIT=1 docker build --platform linux/arm64 --build-arg ARCH=arm64 -t groq_exporter .
#
# BASE picks the base image. The default, distroless static, has no shell or package
# manager; BASE=scratch gives an image with nothing but the binary and the CA bundle.
ARG BASE=gcr.io/distroless/static-debian12:nonroot
FROM ${BASE}

# The binary to copy: .build/${OS}-${ARCH}/groq_exporter.
ARG ARCH="amd64"
ARG OS="linux"
# Set by the build (docker build --build-arg VERSION=... --build-arg REVISION=...).
ARG VERSION=unknown
ARG REVISION=unknown
ARG SOURCE=https://github.com/groq-exporter/groq_exporter

LABEL org.opencontainers.image.title="groq_exporter" \
      org.opencontainers.image.description="Prometheus exporter for Groq's usage metrics" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0"

# The licence and the notice of what is ported from Prometheus, where Prometheus's image keeps them.
COPY LICENSE NOTICE /

# Where Go's TLS looks first on Linux; replaces the base image's bundle, if it has one.
COPY .build/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY .build/${OS}-${ARCH}/groq_exporter /bin/groq_exporter

# nobody:nogroup, numeric so it works on bases without /etc/passwd (scratch).
USER 65534:65534
EXPOSE 10199
ENTRYPOINT ["/bin/groq_exporter"]
