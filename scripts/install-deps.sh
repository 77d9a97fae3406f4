#!/usr/bin/env bash
# Installs the system libraries NeuroMap builds against, only when missing:
#   libopenblas-dev   OpenBLAS with LAPACK (the CBLAS target, found by pkg-config)
#   libreadline-dev   GNU readline (the CReadline target)
#   pkg-config        how SwiftPM finds OpenBLAS
# Uses apt-get (Debian/Ubuntu), through sudo when not root. Runs
# `apt-get update` once, and only when something has to be installed.
# Set NEUROMAP_SKIP_DEPS=1 to skip the check (e.g. on a non-Debian system
# where the libraries are installed by other means).
set -euo pipefail

say() { echo "install-deps: $*"; }
die() { echo "install-deps: error: $*" >&2; exit 1; }

if [[ "${NEUROMAP_SKIP_DEPS:-0}" == "1" ]]; then
    say "NEUROMAP_SKIP_DEPS=1, not checking system libraries"
    exit 0
fi

have_pkgconfig() { command -v pkg-config >/dev/null 2>&1; }
have_openblas() {
    if have_pkgconfig && pkg-config --exists openblas 2>/dev/null; then return 0; fi
    # Without pkg-config the .pc file may still be there; SwiftPM needs both,
    # and pkg-config is checked on its own.
    dpkg -s libopenblas-dev >/dev/null 2>&1
}
have_readline() {
    [[ -f /usr/include/readline/readline.h ]] || dpkg -s libreadline-dev >/dev/null 2>&1
}

missing_packages() {
    local missing=()
    have_openblas || missing+=(libopenblas-dev)
    have_readline || missing+=(libreadline-dev)
    have_pkgconfig || missing+=(pkg-config)
    echo "${missing[@]}"
}

read -r -a missing <<<"$(missing_packages)"
if [[ ${#missing[@]} -eq 0 ]]; then
    say "system libraries present (openblas $(pkg-config --modversion openblas 2>/dev/null || echo '?'), readline, pkg-config)"
    exit 0
fi

say "missing: ${missing[*]}"
command -v apt-get >/dev/null 2>&1 ||
    die "apt-get not found; install the equivalents of ${missing[*]} (OpenBLAS with its openblas.pc, readline headers, pkg-config) by hand, then rerun with NEUROMAP_SKIP_DEPS=1"

sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 ||
        die "not root and sudo not found; as root run: apt-get update && apt-get install -y ${missing[*]}"
    sudo=(sudo)
fi

say "running: ${sudo[*]:+${sudo[*]} }apt-get update"
"${sudo[@]}" apt-get update -q ||
    die "apt-get update failed; as root run: apt-get update && apt-get install -y ${missing[*]}"
say "running: ${sudo[*]:+${sudo[*]} }apt-get install -y --no-install-recommends ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    die "apt-get install failed; as root run: apt-get install -y ${missing[*]}"

read -r -a still <<<"$(missing_packages)"
[[ ${#still[@]} -eq 0 ]] || die "still missing after install: ${still[*]}"
say "installed ${missing[*]}"
