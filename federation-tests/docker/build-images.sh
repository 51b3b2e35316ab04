#!/usr/bin/env bash
# Builds the images docker-compose.federation.yml names, without pulling
# anything from a container registry:
#
#   rosefed-base:<hash>               Debian (the host's release) made by
#                                     debootstrap --variant=minbase, with
#                                     ca-certificates, curl and postgresql
#   rosefed/hub:federation            the hub, binary built on the host
#   rosefed/postgres:federation       Debian's PostgreSQL server
#   rosefed/federation-tests:federation   the federation test binaries
#
# The base image is tagged by a hash of what goes into it, so a second run
# reuses it instead of running debootstrap again. The binaries come from
# `cargo build --release` on the host (build-binaries.sh, into
# federation-tests/docker/prebuilt/), so an unchanged tree costs no
# compilation either.
#
# Usage: federation-tests/docker/build-images.sh [--rebuild-base]
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '[build-images] %s\n' "$*"; }
die() { printf '[build-images] error: %s\n' "$*" >&2; exit 1; }

rebuild_base=false
case "${1:-}" in
  --rebuild-base) rebuild_base=true ;;
  -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  "") ;;
  *) die "unknown argument $1 (see --help)" ;;
esac

docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed)"

# --- The Debian base ---------------------------------------------------

# The host's release, so binaries built here find the same glibc inside.
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$suite" ] || die "cannot tell the host's Debian release from /etc/os-release"
packages=ca-certificates,curl,postgresql

# The mirror the host's apt already uses (none named here): the first
# Debian archive in its sources, else debootstrap's own default.
mirror=$(
  { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
    grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
      sed 's/\[[^]]*\]//' | awk '{print $2}'
  } | grep -v -e security -e updates | head -n 1
) || true

# The base's content is determined by the suite, the package list and the
# recipe below, so those make its tag.
recipe_hash=$(
  { echo "$suite $packages"; sed -n '/^# --- The Debian base/,/^# --- End of base/p' "$0"; } |
    sha256sum | cut -c1-12
)
base=rosefed-base:$recipe_hash

if ! $rebuild_base && docker image inspect "$base" >/dev/null 2>&1; then
  say "base image $base is cached"
else
  if ! command -v debootstrap >/dev/null; then
    say "installing Debian's debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq debootstrap >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null && apt-get install -y -qq debootstrap >/dev/null; } ||
      die "could not install debootstrap"
  fi
  work=target/docker-base
  rm -rf "$work"
  mkdir -p "$work"
  say "debootstrap $suite (minbase + $packages) into $work/rootfs; this takes a minute or two"
  started=$(date +%s)
  if ! debootstrap --variant=minbase --include="$packages" "$suite" "$work/rootfs" ${mirror:+"$mirror"} \
      >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    die "debootstrap failed (full log: $work/debootstrap.log)"
  fi
  # Downloaded packages and indexes are not needed at run time.
  rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
  say "importing the root file system as $base"
  tar --numeric-owner -C "$work/rootfs" -c . | docker import - "$base" >/dev/null
  rm -rf "$work"
  say "base image ready in $(( $(date +%s) - started ))s"
fi
# --- End of base -------------------------------------------------------

# --- The binaries and the images ---------------------------------------

say "cargo build --release (the hub and the federation test binaries)"
federation-tests/docker/build-binaries.sh federation-tests/docker/prebuilt
mkdir -p target

build() { # image target
  say "docker build --target $2 -> $1"
  # Quiet unless it fails (the classic builder's deprecation notice is noise).
  if ! docker build --quiet --build-arg BASE_IMAGE="$base" \
      --target "$2" -t "$1" . >target/docker-build.log 2>&1; then
    cat target/docker-build.log >&2
    die "docker build --target $2 failed"
  fi
}
build rosefed/postgres:federation postgres
build rosefed/hub:federation hub-prebuilt
build rosefed/federation-tests:federation tester-prebuilt
say "images ready: rosefed/hub:federation rosefed/postgres:federation rosefed/federation-tests:federation (base $base)"
