#!/usr/bin/env bash
# Builds criu from Debian's source package into /usr/local/sbin when the installed criu fails
# `criu check` on the running kernel. Debian 12's criu 3.17.1 does not know the [vvar_vclock] mapping
# that kernels since 6.13 have ("vdso: Unexpected rt vDSO area bounds"); criu 4.1.1 passes the check
# there but its dump hangs in the parasite on kernel 6.18; 4.2.1 works. Only the `criu` binary is
# built (about a minute on 2 cores), from the pinned tarball checked against its sha256.
# Used by .ci/run for the checkpoint/restore tests; root only.
set -euo pipefail

version=4.2.1
sha256=29ec0ee09e296479fe7048c80980e8ef1d0684d0b0204c2b101dfea19f6725b9
url="http://deb.debian.org/debian/pool/main/c/criu/criu_${version}.orig.tar.xz"

installed=$(criu --version 2>/dev/null | sed -n 's/^Version: //p' || true)
newest=$(printf '%s\n%s\n' "${installed:-0}" 4.2 | sort -V | tail -1)
if [ "$newest" = "${installed:-0}" ] && criu check >/dev/null 2>&1; then
  echo "criu: ${installed} passes criu check"
  exit 0
fi
echo "criu: ${installed:-none} fails criu check or is older than 4.2; building criu ${version} from Debian's source"

apt-get install -y --no-install-recommends curl gcc make pkgconf libc6-dev libprotobuf-c-dev protobuf-c-compiler \
  libprotobuf-dev protobuf-compiler libnl-3-dev libnet1-dev libcap-dev libbsd-dev libnftables-dev \
  libgnutls28-dev uuid-dev

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! curl -fsSL -o "$work/criu.tar.xz" "$url"; then
  echo "criu: cannot fetch $url; checkpoint/restore tests will report criu's own reason" >&2
  exit 0
fi
echo "$sha256  $work/criu.tar.xz" | sha256sum -c -
tar -xf "$work/criu.tar.xz" -C "$work"
make -C "$work/criu-$version" -j"$(nproc)" criu >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; exit 1; }
install -m 0755 "$work/criu-$version/criu/criu" /usr/local/sbin/criu
hash -r
criu --version
criu check
