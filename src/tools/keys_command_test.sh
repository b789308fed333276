#!/usr/bin/env bash
# `meridian keys`: a new key is printed once and only its hash is stored; list shows names and
# grants; a duplicate name or a malformed grant is a usage error that leaves the file alone.
set -euo pipefail
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
file=$dir/keys.txt
fail() { echo "FAILED: $*" >&2; exit 1; }

key=$("$bin" keys add --file "$file" --name app --grant '*:rw' --grant 'profile:r:user:' 2>/dev/null)
[[ $key =~ ^mk_[0-9a-f]{64}$ ]] || fail "the printed key is not mk_ + 64 hex digits: '$key'"
grep -q "${key#mk_}" "$file" && fail "the key file holds the key itself"
[[ $(stat -c %a "$file") == 600 ]] || fail "the key file is readable by others"
"$bin" keys list --file "$file" | grep -qx 'app \*:rw profile:r:user:' || fail "list shows app"
before=$(cat "$file")
if "$bin" keys add --file "$file" --name app --grant '*:r' >/dev/null 2>&1; then
  fail "a duplicate name was accepted"
fi
if "$bin" keys add --file "$file" --name other --grant 'nope:r' >/dev/null 2>&1; then
  fail "a malformed grant was accepted"
fi
[[ $(cat "$file") == "$before" ]] || fail "a refused add changed the file"
"$bin" keys add --file "$file" --name ops --grant admin >/dev/null 2>&1
[[ $("$bin" keys list --file "$file" | wc -l) == 2 ]] || fail "two keys listed"
echo "ok: meridian keys"
