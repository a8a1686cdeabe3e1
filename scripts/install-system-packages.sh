#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the project needs (missing ones only). As root it runs apt;
# otherwise it prints what to install and fails, so nothing half-works silently.
set -euo pipefail

packages=(python3 python3-venv git make curl)
[[ -n "${EXTRA_SYSTEM_PACKAGES:-}" ]] && read -r -a extra <<<"$EXTRA_SYSTEM_PACKAGES" && packages+=("${extra[@]}")

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "Please install these packages with your system's package manager: ${missing[*]}" >&2
  exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "Missing system packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
