#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages, as a user meets them: 'make deb' builds cowtrace-dkms
# and cowlab with Debian's tools and lintian finds nothing; then a guest
# booting the backports kernel into a Debian trixie userland (vm-run
# --debian) installs both with apt, DKMS builds the module there for the
# guest's own kernel, modprobe loads it, the packaged cowlab reads it, and
# purging the packages removes it all (selftests/deb_guest.sh does the
# guest's part).
#
# Usage: selftests/deb.sh   (as root, after scripts/setup). KTAP output.

set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=selftests/ktap.sh
. "$top/selftests/ktap.sh"
[ "$(id -u)" = 0 ] || skip "must run as root"
series=backports
abi=$("$top/scripts/setup" --abi "$series") || skip "series $series is not set up"
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
tmp=$(mktemp -d /tmp/deb-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

run()
{
	local rc=0

	"$@" >"$tmp/log" 2>&1 || { rc=$?; sed 's/^/# /' "$tmp/log" | tail -n 20; }
	echo "$rc"
}

# What the guest found for NAME (deb_guest.sh's "NAME<TAB>VALUE" lines).
fact()
{
	awk -F'\t' -v k="$1" '$1 == k { print substr($0, length(k) + 2) }' "$tmp/facts"
}

# cowlab's JSON document from the guest, queried.
fork_json()
{
	fact fork_json | jq -r "$1" 2>/dev/null
}

echo "TAP version 13"
echo "1..16"
ok "make deb builds both packages, lintian clean" 0 "$(run make -s -C "$top" deb)"
dpkg-deb -x "$top/build/deb/cowlab_${version}_amd64.deb" "$tmp/cowlab"
ok "the packaged man page renders" 0 "$(run man -l "$tmp/cowlab/usr/share/man/man1/cowlab.1.gz")"

rc=0
(cd "$top" && scripts/vm-run --kernel "$series" \
	--debian --no-module --timeout 1800 -- \
	selftests/deb_guest.sh "$top/build/deb" "$version") >"$tmp/facts" 2>"$tmp/guest" || rc=$?
ok "the trixie guest on $series ran to its end" 0 "$rc"
ok "apt installs both packages" 0 "$(fact install)"
ok "DKMS built and installed the module for $abi" \
	"cowtrace/$version, $abi, x86_64: installed" "$(fact dkms_status)"
ok "modinfo finds it where DKMS installs" \
	"/lib/modules/$abi/updates/dkms/cowtrace.ko.xz" "$(fact module_path)"
ok "modprobe cowtrace loads it" 0 "$(fact modprobe)"
ok "the loaded module is the packaged version" "$version" "$(fact loaded_version)"
ok "cowlab on PATH is the packaged one" /usr/bin/cowlab "$(fact cowlab_path)"
ok "cowlab fork reads the module's counters" true "$(fork_json .kernel_counters.available)"
ok "and counts the child's 512 copies exactly" 512 "$(fork_json '.writes[0].cow_copy')"
ok "the package holds the man page" 1 "$(fact man_page)"
ok "modprobe -r unloads it" 0 "$(fact unload)"
ok "apt purges both packages" 0 "$(fact purge)"
ok "DKMS forgets the module" "" "$(fact dkms_after_purge)"
ok "and no cowtrace.ko is left for the kernel" 0 "$(fact module_after_purge)"
if [ "$failed" != 0 ]; then
	echo "# what the guest printed:"
	sed 's/^\([^#]\)/# \1/' "$tmp/guest"
fi
echo "# $((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
