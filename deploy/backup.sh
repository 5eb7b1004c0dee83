#!/usr/bin/env bash
# A region's state from one moment, and that moment back:
#
#   deploy/backup.sh save DIR       # every service database and every NATS node's store
#   deploy/backup.sh restore DIR    # the whole region back to when DIR was saved
#
# PostgreSQL holds each service's tables, inbox and outbox; JetStream holds the events,
# the consumers' positions and the check-in timers. Saved apart while the services run,
# the two disagree: an outbox row marked published whose event the saved stream lacks,
# or a consumer past messages whose effects the saved database lacks. So both are
# saved (and restored) while the services and the NATS nodes are stopped: a pause of
# about half a minute, during which dispatch systems' reports wait in their retries.
# PostgreSQL stays up throughout. The portal, stopped too, has only its sessions in its
# database: a restore brings back those of the saved moment, each ending after its idle
# time (30 minutes by default) as usual.
#
# COMPOSE names the compose command (default: docker compose -f <this dir>/compose.yaml),
# e.g. COMPOSE="docker compose -f deploy/compose.yaml -p peerline --env-file deploy/.env".
# Replicas (--scale) are kept: containers are stopped and started, never recreated.
# Not saved: deploy/.env and deploy/nats/auth, which hold the keys; keep them apart.
#
# A backup holds every care record and the sealed contact details: DIR is made 0700
# and every file in it 0600, owned by whoever runs this. With BACKUP_GPG_RECIPIENT set
# (a key in the operator's GnuPG keyring), every file is encrypted to it and only the
# encrypted files are kept; restore decrypts them with the matching secret key.
set -euo pipefail
umask 077

here=$(cd "$(dirname "$0")" && pwd)
read -ra compose <<<"${COMPOSE:-docker compose -f $here/compose.yaml}"
databases=(incidents roster checkins notify metrics portal)
nodes=(nats-1 nats-2 nats-3)
stopped=("${databases[@]}" "${nodes[@]}")  # the services are named as their databases

usage() {
  echo "usage: $0 save|restore DIR" >&2
  exit 2
}

wait_healthy() {
  for _ in $(seq 120); do
    if ! "${compose[@]}" ps --format '{{.Health}}' | grep -qv '^healthy$'; then
      return
    fi
    sleep 2
  done
  echo "the region is not healthy after 4 minutes: ${compose[*]} ps" >&2
  exit 1
}

# A throwaway container of a stopped node, with its store at /data and DIR at /backup.
on_store() {
  local node=$1 dir=$2 mode=$3
  shift 3
  "${compose[@]}" run --rm --no-deps -v "$dir:/backup:$mode" --entrypoint sh "$node" -c "$*"
}

files=("${databases[@]/%/.dump}" "${nodes[@]/%/.tgz}")
owner="$(id -u):$(id -g)"

save() {
  local dir=$1
  "${compose[@]}" stop "${stopped[@]}"
  for db in "${databases[@]}"; do
    "${compose[@]}" exec -T postgres pg_dump -U postgres -Fc "$db" >"$dir/$db.dump"
  done
  for node in "${nodes[@]}"; do
    # The node's container runs as root: the archive is made private and handed over.
    on_store "$node" "$dir" rw \
      "umask 077 && tar -czf /backup/$node.tgz -C /data . && chown $owner /backup/$node.tgz"
  done
  "${compose[@]}" start "${stopped[@]}"
  if [[ -n "${BACKUP_GPG_RECIPIENT:-}" ]]; then
    for file in "${files[@]}"; do
      gpg --batch --yes --trust-model always --encrypt --recipient "$BACKUP_GPG_RECIPIENT" \
        --output "$dir/$file.gpg" "$dir/$file"
      rm -f "$dir/$file"
    done
  fi
  wait_healthy
}

restore() {
  local dir=$1
  if [[ -s "$dir/${files[0]}.gpg" ]]; then
    # Decrypted into a private folder of its own, removed however the restore ends.
    local plain
    plain=$(mktemp -d)
    # shellcheck disable=SC2064  # the folder's name now: the variable is gone at exit
    trap "rm -rf '$plain'" EXIT
    for file in "${files[@]}"; do
      [[ -s "$dir/$file.gpg" ]] || { echo "$dir/$file.gpg is missing: nothing was changed" >&2; exit 1; }
      gpg --yes --decrypt --output "$plain/$file" "$dir/$file.gpg"
    done
    dir=$plain
  fi
  for file in "${files[@]}"; do
    [[ -s "$dir/$file" ]] || { echo "$dir/$file is missing: nothing was changed" >&2; exit 1; }
  done
  "${compose[@]}" stop "${stopped[@]}"
  for db in "${databases[@]}"; do
    "${compose[@]}" exec -T postgres \
      pg_restore -U postgres --clean --if-exists --exit-on-error -d "$db" <"$dir/$db.dump"
  done
  for node in "${nodes[@]}"; do
    on_store "$node" "$dir" ro "find /data -mindepth 1 -delete && tar -xzf /backup/$node.tgz -C /data"
  done
  "${compose[@]}" start "${stopped[@]}"
  wait_healthy
}

[[ $# -eq 2 ]] || usage
dir=$(mkdir -p "$2" && chmod 700 "$2" && cd "$2" && pwd)
case $1 in
  save) save "$dir" ;;
  restore) restore "$dir" ;;
  *) usage ;;
esac
