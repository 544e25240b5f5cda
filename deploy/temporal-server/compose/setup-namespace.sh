#!/bin/sh
# docker-compose.yml's temporal-namespace job (temporalio/admin-tools image): registers the
# namespace and Ballast's search attributes (BALLAST_SEARCH_ATTRIBUTES="Name=Type,..."), idempotently,
# as infra/temporalServer.ts does locally.
set -eu
: "${TEMPORAL_ADDRESS:?}" "${BALLAST_SEARCH_ATTRIBUTES:?}"
ns=${TEMPORAL_NAMESPACE:-default}

temporal operator cluster health
temporal operator namespace describe --namespace "$ns" >/dev/null 2>&1 ||
  temporal operator namespace create --namespace "$ns" --retention "${TEMPORAL_RETENTION:-7d}"

for attribute in $(echo "$BALLAST_SEARCH_ATTRIBUTES" | tr ',' ' '); do
  name=${attribute%%=*}
  type=${attribute#*=}
  if ! temporal operator search-attribute list --namespace "$ns" | grep -qw "$name"; then
    temporal operator search-attribute create --namespace "$ns" --name "$name" --type "$type"
  fi
done
echo "namespace $ns ready with search attributes $BALLAST_SEARCH_ATTRIBUTES"
