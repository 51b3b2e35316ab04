#!/usr/bin/env bash
# The two-instance Docker harness: builds the images (no registry needed),
# then, each on fresh volumes,
#   flow       `compose up` of docker-compose.federation.yml: the
#              federation-tests container runs the whole flow against
#              rosefed-a (SQLite) and rosefed-b (PostgreSQL) by service name
#   sigkill    rosefed-a SIGKILLed in the middle of a fan-out, restarted
#   partition  rosefed-b cut off the network while A publishes, reconnected
#   database   rosefed-b's PostgreSQL stopped and started again
# and prints a pass/fail summary. The fault scenarios run in the
# federation-tests container (federation-tests/tests/containers.rs); when
# one prints `@@fault VERB SERVICE`, this script does it to the container
# and answers on the scenario's stdin.
#
# Output of every phase goes to target/docker-harness/; on failure the
# logs of each container are kept there too.
#
# Usage: federation-tests/docker/run.sh [--no-build] [PHASE...]
set -euo pipefail
cd "$(dirname "$0")/../.."

all_phases=(flow sigkill partition database)
declare -A scenario=(
  [sigkill]=sigkill_of_a_in_the_middle_of_a_fan_out_loses_nothing
  [partition]=a_partitioned_b_gets_the_backlog_in_order
  [database]=b_rides_out_a_database_outage_without_a_restart
)

build=true
phases=()
for arg in "$@"; do
  case $arg in
    --no-build) build=false ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    flow|sigkill|partition|database) phases+=("$arg") ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#phases[@]} -gt 0 ] || phases=("${all_phases[@]}")

say() { printf '[harness] %s\n' "$*"; }
docker info >/dev/null 2>&1 || { say "error: no Docker engine answers (docker info failed)"; exit 1; }
if docker compose version >/dev/null 2>&1; then
  compose_cmd=(docker compose)
elif command -v docker-compose >/dev/null; then
  compose_cmd=(docker-compose)
else
  say "error: neither 'docker compose' nor 'docker-compose' is installed"
  exit 1
fi
project=rosefedharness
compose() { "${compose_cmd[@]}" -p "$project" -f docker-compose.federation.yml "$@"; }
out=target/docker-harness
rm -rf "$out"
mkdir -p "$out"

down() { compose down -v --remove-orphans >/dev/null 2>&1 || true; }
trap down EXIT

if $build; then
  federation-tests/docker/build-images.sh
fi

declare -A cid=()
find_containers() { # after `up`: remember each service's container id
  local svc id
  for svc in postgres rosefed-a rosefed-b; do cid[$svc]=$(compose ps -q "$svc"); done
}
container() { # service -> container id
  [ -n "${cid[$1]:-}" ] || { echo "no container for service $1"; return 1; }
  printf '%s' "${cid[$1]}"
}

wait_healthy() { # services...
  local svc status
  for svc in "$@"; do
    for _ in $(seq 1 120); do
      status=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$(container "$svc")")
      [ "$status" = healthy ] && continue 2
      sleep 1
    done
    say "$svc did not become healthy"
    return 1
  done
}

# Carries out one fault request; prints its detail or error.
perform() { # verb service
  local verb=$1 svc=$2 id net
  id=$(container "$svc") || return 1
  net=${project}_federation
  case $verb in
    kill) docker kill --signal KILL "$id" >/dev/null ;;
    start) docker start "$id" >/dev/null && wait_healthy "$svc" ;;
    stop) docker stop "$id" >/dev/null ;;
    disconnect) docker network disconnect "$net" "$id" ;;
    connect) docker network connect --alias "$svc" "$net" "$id" ;;
    started) docker inspect -f '{{.State.StartedAt}}' "$id"; return ;;
    *) echo "unknown fault verb $verb"; return 1 ;;
  esac
  echo "$verb $svc done"
}

keep_logs() { # phase
  mkdir -p "$out/$1"
  local svc id
  for svc in postgres rosefed-a rosefed-b; do
    id=$(compose ps -q "$svc" 2>/dev/null) || true
    if [ -n "$id" ]; then docker logs "$id" >"$out/$1/$svc.log" 2>&1 || true; fi
  done
  say "container logs kept in $out/$1/"
}

run_flow() {
  say "compose up: the federation-tests container runs the flow against rosefed-a and rosefed-b"
  local rc=0
  compose up --no-build --exit-code-from federation-tests >"$out/flow.out" 2>&1 || rc=$?
  grep -E '^federation-tests.*(test |running|test result)' "$out/flow.out" | sed 's/^/    /' || true
  return $rc
}

run_scenario() { # phase
  local name=${scenario[$1]} rc line request answer pid
  say "compose up -d: postgres, rosefed-a, rosefed-b"
  compose up -d --no-build rosefed-a rosefed-b >"$out/$1.up" 2>&1 ||
    { cat "$out/$1.up"; return 1; }
  find_containers
  wait_healthy rosefed-a rosefed-b || return 1
  say "scenario $name (in the federation-tests container)"
  coproc SCENARIO {
    timeout 900 "${compose_cmd[@]}" -p "$project" -f docker-compose.federation.yml \
      run --rm -T --no-deps --use-aliases federation-tests \
      containers --ignored --exact "$name" --nocapture --test-threads=1 2>&1
  }
  pid=$SCENARIO_PID
  exec {from}<&"${SCENARIO[0]}" {to}>&"${SCENARIO[1]}"
  while IFS= read -r line <&"$from"; do
    printf '%s\n' "$line" >>"$out/$1.out"
    case $line in
      @@fault\ *)
        request=${line#@@fault }
        say "  fault: $request"
        # shellcheck disable=SC2086 # verb and service are two words
        if answer=$(perform $request 2>&1); then
          echo "@@ok $answer" >&"$to"
        else
          say "  fault failed: $answer"
          echo "@@err ${answer//$'\n'/ }" >&"$to"
        fi
        ;;
      *) printf '    %s\n' "$line" ;;
    esac
  done
  exec {from}<&- {to}>&-
  rc=0
  wait "$pid" || rc=$?
  return $rc
}

declare -A result=() took=()
failed=0
for phase in "${phases[@]}"; do
  down
  cid=()
  started=$(date +%s)
  say "=== $phase ==="
  if [ "$phase" = flow ]; then run_flow && rc=0 || rc=$?; else run_scenario "$phase" && rc=0 || rc=$?; fi
  took[$phase]=$(( $(date +%s) - started ))
  if [ "$rc" = 0 ]; then
    result[$phase]=PASS
  else
    result[$phase]="FAIL (exit $rc)"
    failed=$((failed + 1))
    keep_logs "$phase"
  fi
  say "$phase: ${result[$phase]} in ${took[$phase]}s"
done
down

echo
say "summary (${compose_cmd[*]}, project $project):"
for phase in "${phases[@]}"; do
  printf '[harness]   %-10s %-16s %4ss\n' "$phase" "${result[$phase]}" "${took[$phase]}"
done
if [ "$failed" -gt 0 ]; then
  say "$failed of ${#phases[@]} phases failed; outputs and container logs are in $out/"
  exit 1
fi
say "all ${#phases[@]} phases passed"
