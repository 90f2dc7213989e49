#!/usr/bin/env bash
# The cross-built arm64 package, unpacked into an empty directory, runs `bootstrap --version` under qemu-user
# and prints exactly the expected version line.
#   arm64_version.sh SOURCE_DIR function-arm64.zip EXPECTED_LINE
set -euo pipefail
src="$1" zip="$(realpath "$2")" expected="$3"
task="$(mktemp -d)"
trap 'rm -rf "$task"' EXIT
(cd "$task" && unzip -q "$zip")
file_arch="$(LC_ALL=C readelf -h "$task/bin/ecr-sweeper" | sed -n 's/^ *Machine: *//p')"
[ "$file_arch" = AArch64 ] || { echo "FAIL: $zip holds a $file_arch binary, not AArch64" >&2; exit 1; }
[ -f "$task/lib/ld-linux-aarch64.so.1" ] || { echo "FAIL: no aarch64 loader in $zip" >&2; ls "$task/lib" >&2; exit 1; }
got="$(env -i PATH=/usr/bin:/bin "$src/scripts/run-bootstrap" "$task" --version)"
echo "arm64 bootstrap --version: $got"
[ "$got" = "$expected" ] || { echo "FAIL: expected '$expected'" >&2; exit 1; }
