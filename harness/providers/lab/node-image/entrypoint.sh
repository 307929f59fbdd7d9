#!/bin/sh
# Entrypoint of a lab node container, run as PID 1 before systemd (exec'd at the end).
# Why each step:
# - Docker mounts the cgroup v1 hierarchies read-only in a non-privileged container. In the
#   container's own cgroup namespace we can mount fresh read-write instances whose root is this
#   container's cgroup, so systemd, kubelet and runc manage only this node's subtree.
# - kubelet opens /dev/kmsg (OOM events): the lab passes the host's in; if there is none, an empty
#   stand-in keeps kubelet starting (it then sees no kernel OOM messages).
# - kubelet and containerd need shared mount propagation for volumes.
set -eu
awk '$3=="cgroup"{print $2" "$4}' /proc/self/mounts | while read -r dir opts; do
  sub=$(echo "$opts" | tr ',' '\n' | grep -vE '^(ro|rw|nosuid|nodev|noexec|relatime)$' | paste -sd, -)
  umount "$dir" && mount -t cgroup -o "rw,nosuid,nodev,noexec,relatime,$sub" cgroup "$dir"
done
[ -e /dev/kmsg ] || ln -s /dev/null /dev/kmsg
mount --make-rshared /
exec /sbin/init
