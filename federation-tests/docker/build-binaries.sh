#!/usr/bin/env bash
# Builds, in release mode, what the harness images carry, and copies it to
# OUTDIR (default federation-tests/docker/prebuilt):
#   rosefed      the hub
#   federation   the two-instance flow (federation-tests/tests/federation.rs)
#   containers   the fault scenarios (federation-tests/tests/containers.rs)
# Used on the host by build-images.sh and inside the Dockerfile's builder
# stage, so both kinds of image hold the same programs.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-federation-tests/docker/prebuilt}
mkdir -p "$out"

# One cargo invocation, so the hub and the tests share one feature
# resolution and one set of compiled dependencies.
json=$(cargo build --release --locked \
  -p rosefed --bin rosefed \
  -p federation-tests --test federation --test containers \
  --message-format=json-render-diagnostics)

executable() { # the file cargo reports for target $1 of kind $2
  printf '%s\n' "$json" | grep '"reason":"compiler-artifact"' |
    grep "\"kind\":\[\"$2\"\]" | grep "\"name\":\"$1\"" |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1
}
for target in rosefed:bin federation:test containers:test; do
  name=${target%%:*}
  file=$(executable "$name" "${target##*:}")
  if [ -z "$file" ] || [ ! -x "$file" ]; then
    echo "error: cargo reported no executable for $target" >&2
    exit 1
  fi
  cp "$file" "$out/$name.tmp" && mv "$out/$name.tmp" "$out/$name"
done
echo "built rosefed, federation and containers into $out"
