# SPDX-License-Identifier: GPL-2.0
#
# cowtrace: build, check and demo.
#
#   make [KVER=SERIES]     cowtrace.ko for a kernel series, and userspace: 6.1, 6.12,
#                          backports (trixie-backports), sid, debug (Debian's 6.12
#                          built with KASAN, lockdep, kmemleak), kcsan (with KCSAN);
#                          without KVER, the running kernel's if its headers are
#                          installed, else 6.1
#   make KDIR=DIR          cowtrace.ko for the kernel tree or headers in DIR
#   make check             everything, on every series but kcsan, in the test VM
#   make check-kcsan       the kselftests under KCSAN (the kcsan series)
#   make demo              boot the VM, load the module, show its views
#   make bench             fault and lock-contention cost: none, cowtrace, bpftrace/perf;
#                          libuthread beside its peers; fork sweep; the report with
#                          its charts in build/bench/report.md
#   make style / sparse    checkpatch --strict / sparse over the module
#   make deps              install what is missing (scripts/setup)
#   make install           cowtrace.ko into /lib/modules/RELEASE/updates, and userspace
#   make dkms-install      the module's source to DKMS, built for every kernel
#   make dkms-remove       and out again
#   make deb               Debian packages cowtrace-dkms and cowlab (in build/deb/)
#
# Each series builds in build/SERIES/ (a KDIR in build/kdir-RELEASE/), so all
# can be built side by side.

SERIES := 6.1 6.12 backports sid debug kcsan
COWTRACE_CACHE ?= /var/cache/cowtrace
KSFT_DIR ?= $(COWTRACE_CACHE)/ksft/tools/testing/selftests
CHECKPATCH ?= $(COWTRACE_CACHE)/ksft/scripts/checkpatch.pl
export COWTRACE_CACHE KSFT_DIR
SHELL := /bin/bash

TOP := $(CURDIR)
# Neither a series nor a tree named: the running kernel's headers if it has
# them, as every out-of-tree module builds; else the test VM's first series.
ifeq ($(origin KVER)$(origin KDIR),undefinedundefined)
ifneq ($(wildcard /lib/modules/$(shell uname -r)/build/Makefile),)
KDIR := /lib/modules/$(shell uname -r)/build
endif
endif
KVER ?= 6.1

ifdef KDIR
# Any kernel's headers or build tree, built on this machine.
# The release as the kernel reports it (Debian's kernel.release lacks the ABI).
KREL := $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null)
ifeq ($(KREL),)
$(error KDIR=$(KDIR) is not a kernel build tree (no include/generated/utsrelease.h))
endif
BUILD := $(TOP)/build/kdir-$(KREL)
KBUILD = $(MAKE) -C $(KDIR)
SPARSE_KBUILD = $(KBUILD)
else
ifeq ($(filter $(KVER),$(SERIES)),)
$(error unknown kernel series KVER=$(KVER): the series are $(SERIES) \
	(make deps sets them up); for the running kernel, install its headers and \
	run make KDIR=/lib/modules/$$(uname -r)/build)
endif
BUILD := $(TOP)/build/$(KVER)
# In the series' build root for the newer kernels (scripts/kmake).
KBUILD = scripts/kmake $(KVER)
SPARSE_KBUILD = scripts/kmake --sparse $(KVER)
endif

MODULE_SOURCES := $(wildcard module/*.c module/*.h module/uapi/*.h)
STYLE_SOURCES = $(MODULE_SOURCES) $(wildcard selftests/*.[ch] selftests/testmod/*.c \
	scripts/bench/*.c)
# W=1: the kernel's own set of extra warnings (its answer to -Wextra).
MODULE_FLAGS := W=1

.PHONY: all module module-noevent userspace selftests testmod check check-kcsan demo bench \
	style sparse \
	deps deps-series \
	install dkms-source dkms-install dkms-remove deb clean help

all: module userspace selftests

help:
	@sed -n '3,23s/^# \{0,1\}//p' Makefile

# Kbuild writes objects next to their sources: give each series a tree of
# links to the sources, so the two builds never share an object file.
$(BUILD)/Kbuild: Kbuild
	@mkdir -p $(BUILD)
	@ln -sf $(TOP)/Kbuild $@

module: $(BUILD)/Kbuild
	@cp -rsf $(TOP)/module $(BUILD)/
	$(KBUILD) M=$(BUILD) $(MODULE_FLAGS) modules

userspace:
	$(MAKE) -C userspace

# The kselftests, and the modules the tests load (selftests/testmod).
selftests: testmod
	$(MAKE) -C selftests

testmod: $(BUILD)/Kbuild
	@cp -rsf $(TOP)/selftests/testmod $(BUILD)/
	$(KBUILD) M=$(BUILD)/testmod $(MODULE_FLAGS) modules

# sparse re-checks every file (C=2) and turns its warnings into errors. A
# kernel Makefile that finds no usable sparse says so and checks nothing:
# that is a failure, as is any module file left unchecked.
sparse: $(BUILD)/Kbuild
	@cp -rsf $(TOP)/module $(BUILD)/
	@# Not silent (make -s): the CHECK lines are counted.
	@set -o pipefail; MAKEFLAGS= $(SPARSE_KBUILD) M=$(BUILD) C=2 CF='-Wsparse-error' \
		$(if $(CHECK),CHECK=$(CHECK)) modules 2>&1 | tee $(BUILD)/sparse.log
	@! grep 'not available or not up to date' $(BUILD)/sparse.log >&2 || \
		{ echo "make: sparse did not run for $(KVER)" >&2; exit 1; }
	@n=$$(grep -c '^ *CHECK ' $(BUILD)/sparse.log); want=$(words $(wildcard module/*.c)); \
		[ "$$n" = "$$want" ] || { echo "make: sparse checked $$n of $$want files" >&2; exit 1; }

style:
	perl $(CHECKPATCH) --strict --no-tree --quiet --show-types -f $(STYLE_SOURCES)
	$(MAKE) -C userspace style

deps:
	@scripts/setup --quiet

# The demo and the benchmarks need only their own series, not the debug
# kernel that a first 'make deps' builds (half an hour).
deps-series:
	@scripts/setup --quiet --series $(KVER)

# check builds the debug kernel itself, beside the stock series' tests;
# check-kcsan the kcsan kernel, before its one run.
check:
	@scripts/setup --quiet --series stock
	scripts/check

check-kcsan:
	@scripts/setup --quiet --series 6.1
	scripts/check --kcsan

demo: deps-series
	scripts/demo

# Benchmarks: fault cost in the VM (no module / cowtrace / bpftrace, side by
# side), then the userspace components' own benchmarks on the host.
$(TOP)/build/faultbench: scripts/bench/faultbench.c
	@mkdir -p $(TOP)/build
	$(CC) -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -o $@ $<

$(TOP)/build/lockbench: scripts/bench/lockbench.c
	@mkdir -p $(TOP)/build
	$(CC) -O2 -g -Wall -Wextra -Werror -pthread -o $@ $<

# The guest-instruction counter (a QEMU plugin: its callbacks' signatures
# are QEMU's, used or not).
$(TOP)/build/insncount.so: scripts/bench/insncount.c $(COWTRACE_CACHE)/qemu-plugin/qemu-plugin.h
	@mkdir -p $(TOP)/build
	$(CC) -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror -shared -fPIC \
		-I$(COWTRACE_CACHE)/qemu-plugin -o $@ $<

# The module once more without its trace event, for the event's own cost.
module-noevent: $(BUILD)/Kbuild
	@mkdir -p $(BUILD)/noevent
	@ln -sf $(TOP)/Kbuild $(BUILD)/noevent/Kbuild
	@cp -rsf $(TOP)/module $(BUILD)/noevent/
	$(KBUILD) M=$(BUILD)/noevent $(MODULE_FLAGS) CT_BENCH_NO_EVENT=1 modules

bench: deps-series $(TOP)/build/faultbench $(TOP)/build/lockbench $(TOP)/build/insncount.so
	$(MAKE) KVER=$(KVER) module module-noevent
	scripts/bench/run
	$(MAKE) -C userspace bench PEERS_TSV=$(TOP)/build/bench/peers.tsv \
		FORK_JSON=$(TOP)/build/bench/fork.json
	scripts/bench/report

# The release the module is built for: a series' ABI, or KDIR's.
KREL ?= $(shell scripts/setup --abi $(KVER))
MODDIR = $(DESTDIR)/lib/modules/$(KREL)/updates

# Copied and indexed for that kernel only (a staging DESTDIR is not
# indexed: packaging does that); nothing signed.
install: module
	install -D -m 0644 $(BUILD)/cowtrace.ko $(MODDIR)/cowtrace.ko
	$(if $(DESTDIR),,depmod $(KREL))
	@echo "make: cowtrace.ko is not signed; with Secure Boot on, use make dkms-install:" \
		"DKMS signs what it builds with its MOK key (enroll it once: mokutil --import)"
	$(MAKE) -C userspace install

# DKMS keeps cowtrace.ko built for every kernel with headers, now and after
# kernel upgrades: the module's source goes to /usr/src/cowtrace-VERSION.
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DKMS_SRC = $(DESTDIR)/usr/src/cowtrace-$(DKMS_VERSION)

dkms-source:
	rm -rf $(DKMS_SRC)
	install -d $(DKMS_SRC)/module/uapi
	install -m 0644 Kbuild dkms.conf $(DKMS_SRC)/
	install -m 0644 module/*.c module/*.h $(DKMS_SRC)/module/
	install -m 0644 module/uapi/*.h $(DKMS_SRC)/module/uapi/

dkms-install: dkms-source
	dkms add cowtrace/$(DKMS_VERSION)
	dkms install cowtrace/$(DKMS_VERSION)

dkms-remove:
	dkms remove cowtrace/$(DKMS_VERSION) --all
	rm -rf $(DKMS_SRC)

# Debian packages, built with Debian's tools from a copy of the tracked
# files (nothing of build/ goes in), then checked with lintian.
DEB_DIR := $(TOP)/build/deb
deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/cowtrace-$(DKMS_VERSION)
	git ls-files -z | xargs -0 cp --parents -t $(DEB_DIR)/cowtrace-$(DKMS_VERSION)
	cd $(DEB_DIR)/cowtrace-$(DKMS_VERSION) && dpkg-buildpackage -b -us -uc
	lintian --fail-on error,warning $(DEB_DIR)/cowtrace_*.changes

clean:
	rm -rf build
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean
