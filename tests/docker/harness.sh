#!/bin/bash
# The harness itself: dockerd starts, runs a container from the imported
# image, stops, starts again on the same data, and leaves nothing behind.
. "$(dirname "$0")/lib.sh"
# shellcheck disable=SC2034 # finish prints it
TEST=docker-harness

t0=$(date +%s%N)
docker_start --userland-proxy=false
t1=$(date +%s%N)
docker_image
dk_serve web -p 8080:80
t2=$(date +%s%N)
expect ok "root reaches the container by IP" probe "$H" tcp "$(dk_ip web)" 80
expect ok "root reaches the published port" probe "$H" tcp 127.0.0.1 8080
docker_stop
t3=$(date +%s%N)
echo "# start $(((t1 - t0) / 1000000)) ms, image+container $(((t2 - t1) / 1000000)) ms, stop $(((t3 - t2) / 1000000)) ms"
if [ -z "$(docker_leftovers)" ]; then pass "nothing of dockerd left after stop"; else fail "left over: $(docker_leftovers)"; fi
if grep -qF "$DK/" /proc/self/mountinfo; then fail "mounts left under $DK"; else pass "no mounts left under $DK"; fi
docker_start --userland-proxy=false
dk start web >/dev/null
expect ok "after a restart the container serves again" probe "$H" tcp "$(dk_ip web)" 80
finish
