#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of deb.sh, run as root in a Debian userland booted by
# 'vm-run --debian': what a user does after copying the packages over, with
# what each step gave printed as "NAME<TAB>VALUE" lines for deb.sh to judge
# (the guest has no jq). A step's output goes to stderr, prefixed with '# '.
#
# Usage: selftests/deb_guest.sh DEBDIR VERSION

set -u

debs=$1 version=$2

fact()
{
	printf '%s\t%s\n' "$1" "$2"
}

# step NAME CMD...: run CMD, its output on stderr, its exit status a fact
step()
{
	local name=$1 rc=0

	shift
	"$@" >/tmp/step.log 2>&1 || rc=$?
	sed 's/^/# /' /tmp/step.log >&2
	fact "$name" "$rc"
}

export DEBIAN_FRONTEND=noninteractive
step install apt-get install -y -q \
	"$debs/cowtrace-dkms_${version}_all.deb" "$debs/cowlab_${version}_amd64.deb"
fact dkms_status "$(dkms status cowtrace 2>&1 | sed 's/ (.*)//')"
fact module_path "$(modinfo -n cowtrace 2>&1)"
step modprobe modprobe cowtrace
fact loaded_version "$(cat /sys/module/cowtrace/version 2>&1)"
fact cowlab_path "$(command -v cowlab)"
fact fork_json "$(cowlab -j fork --size 4M --write 50% 2>/dev/null | tr -d '\n')"
fact man_page "$(dpkg -L cowlab | grep -c '^/usr/share/man/man1/cowlab\.1\.gz$')"
step unload modprobe -r cowtrace
step purge apt-get purge -y -q cowtrace-dkms cowlab
fact dkms_after_purge "$(dkms status cowtrace 2>&1)"
fact module_after_purge "$(find "/lib/modules/$(uname -r)/updates" -name 'cowtrace.ko*' 2>/dev/null | wc -l)"
