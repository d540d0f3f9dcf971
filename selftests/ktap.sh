# SPDX-License-Identifier: GPL-2.0
#
# What the shell tests share (sourced, not run): KTAP lines for a plan of
# cases that compare an expected value with the one measured.
#
#   skip REASON                  the whole program is skipped (exit 4)
#   ok NAME EXPECTED ACTUAL      one case; failures are counted in $failed
#
# The caller prints the plan ("1..$n") itself, before or after its cases.

n=0
failed=0

skip()
{
	echo "1..0 # SKIP $*"
	exit 4
}

ok()
{
	n=$((n + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $n $1"
	else
		echo "# expected '$2', got '$3'"
		echo "not ok $n $1"
		failed=$((failed + 1))
	fi
}
