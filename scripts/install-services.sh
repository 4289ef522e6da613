#!/usr/bin/env bash
# Installs the real services the test suite runs against (Debian packages), only those missing.
# Usage: scripts/install-services.sh [package ...]   (default: all of them)
set -euo pipefail
# docker.io (dockerd 20.10 + containerd + runc), docker-compose (v1) and busybox-static (the root filesystem of the
# test images; there is no registry) are for the Compose tests, which start a private dockerd of their own.
declare -A bin_of=([prometheus]=/usr/bin/prometheus [nginx]=/usr/sbin/nginx [redis-server]=/usr/bin/redis-server
  [postgresql]=/usr/lib/postgresql [wrk]=/usr/bin/wrk [chromium]=/usr/bin/chromium [openssl]=/usr/bin/openssl
  [docker.io]=/usr/sbin/dockerd [docker-compose]=/usr/bin/docker-compose [busybox-static]=/bin/busybox)
want=("$@"); [ ${#want[@]} -gt 0 ] || want=(prometheus nginx redis-server postgresql wrk chromium openssl docker.io docker-compose busybox-static)
missing=()
for p in "${want[@]}"; do [ -e "${bin_of[$p]:-/nonexistent}" ] || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && { echo "services: all present (${want[*]})"; exit 0; }
if [ "$(id -u)" != 0 ]; then
  echo "services: missing ${missing[*]} and not root; install them with: apt-get install ${missing[*]}" >&2; exit 1
fi
echo "services: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts packaged daemons on install; the tests start their own private instances.
for s in nginx redis-server postgresql prometheus prometheus-node-exporter docker containerd; do
  (service "$s" stop || true) >/dev/null 2>&1
done
# On systemd machines the Docker socket unit would start the packaged daemon again on first use.
if command -v systemctl >/dev/null 2>&1; then
  (systemctl stop docker.socket docker.service containerd.service || true) >/dev/null 2>&1
  (systemctl disable docker.socket docker.service containerd.service || true) >/dev/null 2>&1
fi
echo "services: installed ${missing[*]}"
