#!/usr/bin/env bash
# Reproducible and lean: packages BINARY again, with the binary's mtime changed since the build packaged it, and
# requires a zip byte-identical to the build's own ZIP (same commit, same SOURCE_DATE_EPOCH);
# then checks what the bundle holds: no GnuTLS/Kerberos/LDAP/RTMP/SSH library, stand-ins in their place, fixed
# mtimes and modes, sorted entries, a SHA256SUMS line that matches, and a bootstrap that is the static launcher
# execing the bundled loader with every bundled library preloaded.
#   check_package.sh SOURCE_DIR BINARY BUILT_ZIP
set -euo pipefail
src="$1" bin="$(realpath "$2")" built="$(realpath "$3")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
name="$(basename "$built")"
mkdir "$work/a"
cp -p "$bin" "$work/ecr-sweeper"
touch -d '2001-02-03 04:05:06' "$work/ecr-sweeper"
[ "$(stat -c %Y "$work/ecr-sweeper")" != "$(stat -c %Y "$bin")" ] ||
  { echo "FAIL: the mtime did not change" >&2; exit 1; }
"$src/scripts/package" "$work/ecr-sweeper" "$work/a/$name" >/dev/null
cmp "$work/a/$name" "$built" ||
  { echo "FAIL: a second packaging of one binary differs from the build's $name" >&2; exit 1; }
echo "ok: byte-identical ($(stat -c %s "$built") bytes, sha256 $(sha256sum "$built" | cut -c1-16)...)"

(cd "$work/a" && sha256sum -c SHA256SUMS) || { echo "FAIL: SHA256SUMS does not match" >&2; exit 1; }

# One line per entry: mode, version, os, size, type, method, yyyymmdd.hhmmss, name.
listing="$(unzip -Z -T "$built" | awk '$1 ~ /^[-d][-r]/')"
entries="$(echo "$listing" | awk '{print $NF}')"
[ "$entries" = "$(echo "$entries" | LC_ALL=C sort)" ] || { echo "FAIL: entries not sorted" >&2; exit 1; }
[ "$(echo "$listing" | awk '{print $(NF-1)}' | sort -u | wc -l)" = 1 ] || {
  echo "FAIL: entries carry different mtimes" >&2; echo "$listing" >&2; exit 1; }
echo "$listing" | awk '$NF == "bootstrap" && $1 != "-rwxr-xr-x" {bad = 1} END {exit bad}' ||
  { echo "FAIL: bootstrap is not mode 755" >&2; exit 1; }
echo "$entries" | grep -qx bootstrap || { echo "FAIL: no bootstrap entry" >&2; exit 1; }
for banned in libgnutls libkrb5 libk5crypto libsasl2 libunistring libgmp libnettle libhogweed libp11-kit; do
  if echo "$entries" | grep -q "^lib/$banned"; then echo "FAIL: $banned is bundled" >&2; exit 1; fi
done
mkdir "$work/u"
(cd "$work/u" && unzip -q "$built")
for stand_in in libldap librtmp libssh2 libgssapi_krb5; do
  f="$(ls "$work/u/lib/$stand_in"* 2>/dev/null | head -1)"
  [ -n "$f" ] || { echo "FAIL: no stand-in for $stand_in (libcurl needs one to load)" >&2; exit 1; }
  grep -q "this package leaves that library out" "$f" || { echo "FAIL: $f is the real library, not a stand-in" >&2; exit 1; }
done
echo "ok: $(echo "$entries" | grep -c '^lib/') libraries, $(du -sb "$work/u" | cut -f1) bytes unpacked, no GnuTLS/Kerberos/LDAP/SSH"

# bootstrap is the static launcher (no shell, no interpreter on the cold-start path), and the command it execs
# names the bundled loader and preloads every other bundled library by path, each once.
LC_ALL=C readelf -l "$work/u/bootstrap" | grep -q "Requesting program interpreter" &&
  { echo "FAIL: bootstrap has a program interpreter; it should be the static launcher" >&2; exit 1; }
[ "$(stat -c %s "$work/u/bootstrap")" -lt 65536 ] || { echo "FAIL: bootstrap is not the small launcher" >&2; exit 1; }
run_launcher=("$work/u/bootstrap")
case "$(LC_ALL=C readelf -h "$work/u/bootstrap" | sed -n 's/^ *Machine: *//p')" in
  *AArch64*) [ "$(uname -m)" = aarch64 ] || run_launcher=("$(command -v qemu-aarch64-static || command -v qemu-aarch64)" "$work/u/bootstrap") ;;
esac
mapfile -d '' cmd < <(cd "$work/u" && ECRS_BOOTSTRAP_PRINT=1 "${run_launcher[@]}" --version)
loader="$(cd "$work/u/lib" && ls ld-linux-*)"
[ "${cmd[0]}" = "$work/u/lib/$loader" ] || { echo "FAIL: the launcher execs '${cmd[0]}', not lib/$loader" >&2; exit 1; }
[ "${cmd[*]: -4}" = "--argv0 bootstrap $work/u/bin/ecr-sweeper --version" ] ||
  { echo "FAIL: the launcher's command ends '${cmd[*]: -4}'" >&2; exit 1; }
preload=""
for ((i = 0; i < ${#cmd[@]}; i++)); do [ "${cmd[$i]}" = --preload ] && preload="${cmd[$((i + 1))]}"; done
got="$(echo "$preload" | tr ':' '\n' | sed "s#^$work/u/lib/##" | LC_ALL=C sort)"
want="$(cd "$work/u/lib" && ls | grep -vx "$loader" | LC_ALL=C sort)"
[ "$got" = "$want" ] || { echo "FAIL: the launcher preloads" >&2; echo "$got" >&2; echo "instead of" >&2; echo "$want" >&2; exit 1; }
echo "ok: bootstrap is a $(stat -c %s "$work/u/bootstrap")-byte static launcher preloading $(echo "$want" | wc -l) libraries"
