#!/bin/sh
# Provisioning a Docker host with Traefik: idempotent, safe to run on every
# deploy. Exit status: 0 when the host ends up in the wanted state.
#   PROXY_USER   the reverse proxy's user (default: traefik)
#   HOSTGUARD    the hostguard binary (default: hostguard)
set -eu
HOSTGUARD=${HOSTGUARD:-hostguard}
PROXY_USER=${PROXY_USER:-traefik}

# Each edit changes the table and the config in one go, and does nothing
# (exit 0) when it is already so. A missing table gets the config only.
"$HOSTGUARD" allow-uid "$PROXY_USER"
# containers may ask the host's DNS resolver
"$HOSTGUARD" allow-port udp 53
"$HOSTGUARD" allow-port tcp 53
# load (or bring up to date) the table, then make sure it matches
"$HOSTGUARD" apply
"$HOSTGUARD" check
