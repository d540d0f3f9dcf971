# SPDX-License-Identifier: GPL-2.0
# Shared helpers for cowtrace's scripts; sourced, never run.
#
# The kernel series we test against: Debian 12's two (6.1 and 6.12, whose
# headers install on this machine), the newest stable kernel (trixie-backports:
# "backports") and the newest unstable one ("sid"). Their ABI names
# (6.1.0-56-amd64, 7.3.4+deb13-amd64, ...) move with every Debian upload, so
# they are resolved from the headers metapackage of their suite when setup
# runs and never written down anywhere in the tree. The newer two need a
# newer compiler and glibc than Debian 12 has: their headers live in a
# build root of their suite (scripts/suite-root), where their modules build.
# The "debug" series is Debian's 6.12 source built here with the sanitizers,
# the "kcsan" one the same with the data-race detector (scripts/debug-kernel),
# each named by the hash of what it is built from.

CT_SERIES_STOCK="6.1 6.12 backports sid"
CT_SERIES_BUILT="debug kcsan"
CT_SERIES_ALL="$CT_SERIES_STOCK $CT_SERIES_BUILT"
CT_CACHE=${COWTRACE_CACHE:-/var/cache/cowtrace}
# The selftest harness, lib.mk and checkpatch.pl are userspace tools that do
# not depend on the running kernel: one source tree serves every series.
CT_SOURCE_SERIES=6.12
CT_KSFT=$CT_CACHE/ksft

ct_die()
{
	echo "${0##*/}: $*" >&2
	exit 2
}

ct_check_series()
{
	case "$1" in
	6.1 | 6.12 | backports | sid | debug | kcsan) ;;
	*) ct_die "unknown kernel series '$1' (expected one of: $CT_SERIES_ALL)" ;;
	esac
}

# The suite whose build root a series' modules build in; nothing for the
# series that build on this machine.
ct_series_root()
{
	case "$1" in
	backports) echo trixie ;;
	sid) echo sid ;;
	esac
}

# Where a series' kernels come from: the apt target release to resolve in.
ct_series_release()
{
	case "$1" in
	backports) echo trixie-backports ;;
	sid) echo sid ;;
	esac
}

# Debian names the 6.1 metapackages without a series suffix, and the newest
# kernels of a suite are the plain metapackage's.
ct_headers_meta()
{
	case "$1" in
	6.1 | backports | sid) echo linux-headers-amd64 ;;
	*) echo "linux-headers-$1-amd64" ;;
	esac
}

# Newest ABI of a series that the package lists offer, or nothing.
ct_resolve_abi()
{
	local root release

	root=$(ct_series_root "$1")
	release=$(ct_series_release "$1")
	if [ -n "$root" ]; then
		"$(dirname "${BASH_SOURCE[0]}")/suite-root" "$root" \
			apt-cache -t "$release" depends "$(ct_headers_meta "$1")"
	else
		apt-cache depends "$(ct_headers_meta "$1")"
	fi 2>/dev/null |
		sed -n 's/^ *Depends: linux-headers-\(.*-amd64\)$/\1/p' | head -n 1
}

# The ABI setup last prepared for a series (fast, no package look-up).
ct_abi()
{
	local f=$CT_CACHE/abi-$1

	ct_check_series "$1"
	[ -s "$f" ] || ct_die "kernel $1 is not set up: run scripts/setup --series $1"
	cat "$f"
}

# Where modules for a series are built against: Debian's headers package
# (in the series' build root for the newer ones: there, the path inside it),
# or a sanitizer kernel's own build tree.
ct_kdir()
{
	local abi

	abi=$(ct_abi "$1")
	case "$1" in
	debug | kcsan) echo "$CT_CACHE/kernels/$abi/build" ;;
	*) echo "/usr/src/linux-headers-$abi" ;;
	esac
}

# A sanitizer kernel runs the same tests 10 to 20 times slower (KASAN with
# lockdep) or a few times (KCSAN): test programs scale their own time
# limits by this.
ct_timeout_scale()
{
	case "$1" in
	debug) echo 10 ;;
	kcsan) echo 5 ;;
	*) echo 1 ;;
	esac
}

CT_MIRROR=${COWTRACE_MIRROR:-http://deb.debian.org/debian}

# The build root of a newer Debian suite (scripts/suite-root).
ct_suite_root()
{
	echo "$CT_CACHE/roots/$1"
}

ct_kernel_root()
{
	echo "$CT_CACHE/kernels/$1/root"
}

ct_vmlinuz()
{
	echo "$(ct_kernel_root "$1")/boot/vmlinuz-$1"
}

# The uncompressed ELF kernel: QEMU boots it through its PVH entry point,
# which skips the decompressor (seconds of emulated XZ on the 6.1 series).
ct_vmlinux()
{
	echo "$CT_CACHE/kernels/$1/vmlinux"
}
