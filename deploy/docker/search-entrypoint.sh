#!/bin/sh
# Search replica entrypoint: derive the shards this replica owns from its ordinal.
#
# In a Kubernetes StatefulSet every pod runs the same spec, so SEARCH_SHARDS cannot be
# written per pod. When SEARCH_SHARDS is unset and SEARCH_REPLICA_COUNT is set, replica i
# of SEARCH_REPLICA_COUNT serves shards i, i+R, i+2R, ... of SEARCH_SHARD_COUNT: strided,
# so any replica count up to the shard count spreads shards evenly. The ordinal i is
# SEARCH_REPLICA_INDEX (the `apps.kubernetes.io/pod-index` label through the downward
# API), or else the suffix of the pod's host name (`search-2` -> 2) on older clusters.
# An explicit SEARCH_SHARDS (docker compose) is left alone.
set -eu

if [ -z "${SEARCH_SHARDS:-}" ] && [ -n "${SEARCH_REPLICA_COUNT:-}" ]; then
    index=${SEARCH_REPLICA_INDEX:-${HOSTNAME##*-}}
    replicas=$SEARCH_REPLICA_COUNT
    count=${SEARCH_SHARD_COUNT:?SEARCH_SHARD_COUNT is required with SEARCH_REPLICA_COUNT}
    case $index in
        '' | *[!0-9]*)
            echo "search: no replica ordinal (SEARCH_REPLICA_INDEX or a host name like search-0)" >&2
            exit 64
            ;;
    esac
    if [ "$index" -ge "$replicas" ] || [ "$replicas" -gt "$count" ]; then
        echo "search: replica $index of $replicas cannot own shards of $count" >&2
        exit 64
    fi
    shards=$index
    next=$((index + replicas))
    while [ "$next" -lt "$count" ]; do
        shards="$shards,$next"
        next=$((next + replicas))
    done
    SEARCH_SHARDS=$shards
    export SEARCH_SHARDS
    echo "search: replica $index of $replicas serves shards $SEARCH_SHARDS of $count" >&2
fi

exec "$@"
