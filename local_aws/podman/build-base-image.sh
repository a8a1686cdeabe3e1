#!/usr/bin/env bash
# Builds the local stand-in for the instances' AMI: a Debian 12 image with systemd and Python,
# made offline from Debian's mirror with debootstrap (no container registry needed), once.
# Also detects whether podman on this machine needs a containers.conf to run containers (some VMs
# refuse the default rlimits or crun's cgroup handling) and writes one under .state/ only then.
#
#   local_aws/podman/build-base-image.sh            # prints CONTAINERS_CONF=<path or empty>
#   BASE_IMAGE=... DEBIAN_MIRROR=... local_aws/podman/build-base-image.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

image=${BASE_IMAGE:-localhost/image-delivery/debian:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
state=.state/podman
packages=systemd,systemd-sysv,dbus,sudo,python3,python3-apt,python3-venv,ca-certificates,curl,procps,iproute2
mkdir -p "$state"
# One build at a time: test layers running side by side (Molecule, end to end) share the image.
exec 9>"$state/build.lock"
flock 9

if ! podman image exists "$image"; then
  [[ $(id -u) -eq 0 ]] || { echo "building $image needs root (debootstrap)" >&2; exit 1; }
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  echo "debootstrap bookworm into $root ..." >&2
  debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" >"$state/debootstrap.log" 2>&1 \
    || { tail -20 "$state/debootstrap.log" >&2; exit 1; }
  # Like a cloud image: no package lists (and no cache claiming to be fresh) until apt update.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*
  # Containers have no console: do not wait for one, and let Ansible find a Python.
  ln -sf /dev/null "$root/etc/systemd/system/getty@tty1.service"
  tar -C "$root" -c . | podman import --quiet --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3' - "$image" >/dev/null
fi

# The containers.conf quirk: try a container without one first; only if that fails, try the known
# workaround (fixed rlimits, runc) and keep it when it helps.
conf="$state/containers.conf"
if env -u CONTAINERS_CONF podman run --rm --network none "$image" true 2>"$state/probe.log"; then
  rm -f "$conf"
  echo "CONTAINERS_CONF="
else
  cat >"$conf" <<'CONF'
# Written by local_aws/podman/build-base-image.sh: podman failed here with its defaults (see probe.log).
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
CONF
  if CONTAINERS_CONF="$PWD/$conf" podman run --rm --network none "$image" true 2>>"$state/probe.log"; then
    echo "CONTAINERS_CONF=$PWD/$conf"
  else
    echo "podman cannot run containers here, even with $conf:" >&2
    cat "$state/probe.log" >&2
    exit 1
  fi
fi
