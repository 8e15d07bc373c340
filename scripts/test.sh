#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian machine with Rust:
# installs the peer programs the interop tests talk to, then checks
# formatting and lints (the default build, NoSec only, and the build with
# every feature, DTLS included), then builds and runs the whole test suite
# with every feature.
set -euo pipefail
cd "$(dirname "$0")/.."

# Peers we did not write (interop tests), and what the openssl-sys build
# needs (feature `dtls`: the DTLS backend links the system OpenSSL 3; the
# default build needs neither). Installed only when missing.
need_pkgs=()
command -v coap-client-notls >/dev/null 2>&1 || need_pkgs+=(libcoap3-bin)
command -v coap-server-gnutls >/dev/null 2>&1 || need_pkgs+=(libcoap3-bin)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
command -v pkg-config >/dev/null 2>&1 || need_pkgs+=(pkg-config)
pkg-config --exists openssl 2>/dev/null || need_pkgs+=(libssl-dev)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    mapfile -t need_pkgs < <(printf '%s\n' "${need_pkgs[@]}" | sort -u)
    echo "installing test peers: ${need_pkgs[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get install -y --no-install-recommends "${need_pkgs[@]}" \
        || { $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends "${need_pkgs[@]}"; }
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
cargo test --workspace --all-features --locked
