#!/usr/bin/env bash
# Builds the local test images from Debian's busybox-static (there is no registry to pull from).
# Idempotent: rebuilds only when an image is missing. Needs `busybox-static` installed.
#   berth-test/busybox:latest  FROM scratch + static busybox: sh, httpd, sleep, nc, ...
set -euo pipefail
image="${BERTH_TEST_IMAGE:-berth-test/busybox:latest}"
if docker image inspect "$image" >/dev/null 2>&1 && [ "${1:-}" != "--force" ]; then
  exit 0
fi
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || busybox=/bin/busybox
# ldd exits 1 on a static binary, so its status must not fail the check under pipefail.
linkage=$(ldd "$busybox" 2>&1 || true)
if ! grep -q "not a dynamic" <<<"$linkage"; then
  echo "build.sh: $busybox is not a static busybox; install Debian's busybox-static" >&2
  exit 1
fi
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp "$busybox" "$context/busybox"
cat > "$context/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "mkdir", "-p", "/usr/bin", "/sbin", "/usr/sbin", "/tmp", "/www", "/etc"]
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN ["/bin/sh", "-c", "echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd && echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >> /etc/passwd && echo 'root:x:0:' > /etc/group && echo 'nogroup:x:65534:' >> /etc/group && chmod 1777 /tmp && echo berth > /www/index.html"]
ENV PATH=/bin:/usr/bin:/sbin:/usr/sbin
CMD ["/bin/sh"]
DOCKERFILE
docker build -q -t "$image" "$context" >/dev/null
echo "built $image"
