# mptrace: one entry point. `make V=1` shows the commands.
#   make            build build/mptrace and build/examples/*
#   make demo       install missing deps (Debian/Ubuntu, root), build, run the ticket demo
#   make check      install missing deps, build, run every test (unit + bats, sanitized binary)
#   make kernel-test [KERNELS="6.1 6.12"]   the tests in QEMU guests on Debian's kernels
#                    (or KERNEL_IMAGE=vmlinuz KERNEL_MODULES=.../lib/modules/VER): docs/kernels.md
#   make unit | bats | bench | fuzz | install PREFIX=... | clean | vmlinux
#   make mutate [MUTATE=REGEX]  deliberate bugs the tests must catch (tests/mutations/)
#   make check-repeat [RUNS=10] the suite RUNS times in a row beside a CPU hog

CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PREFIX   ?= /usr/local
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BUILD    := build
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.1.0)
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/;s/ppc64le/powerpc/;s/riscv64/riscv/;s/s390x/s390/')

CFLAGS   ?= -O2 -g
CFLAGS   += -Wall -Wextra -std=gnu11 -D_GNU_SOURCE -DMPTRACE_VERSION='"$(VERSION)"' \
	    -I$(BUILD) -Ibpf -Iuser -MMD -MP
# libmicrohttpd: the metrics endpoint (a hardened HTTP server mptrace does not write
# itself), opened with dlopen() only when an endpoint is asked for (user/daemon.c)
LDLIBS   := -lbpf -ldw -lelf -lz -lncursesw -lm -lpthread
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.PHONY: all demo check unit bats bench fuzz install clean deps deps-test vmlinux san mutate check-repeat kernel-test

USER_SRCS  := $(wildcard user/*.c)
USER_OBJS  := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(USER_SRCS))
SAN_OBJS   := $(patsubst user/%.c,$(BUILD)/san/obj/%.o,$(USER_SRCS))
# The pure modules: what unit tests link (no libbpf, no curses).
PURE       := ptree analyze deadlock forget event out_json out_perfetto out_text timeline util record tui_rows metrics out_otlp
PURE_SAN   := $(patsubst %,$(BUILD)/san/obj/%.o,$(filter $(PURE),$(basename $(notdir $(USER_SRCS)))))
EX_SRCS    := $(wildcard examples/*.c)
EX_BINS    := $(patsubst examples/%.c,$(BUILD)/examples/%,$(EX_SRCS))
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
# Small programs the bats tests run (a hostile command, ...).
TH_SRCS    := $(wildcard tests/helpers/*.c)
TH_BINS    := $(patsubst tests/helpers/%.c,$(BUILD)/tests/%,$(TH_SRCS))
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

all: $(BUILD)/mptrace $(EX_BINS) $(BENCH_BINS) $(TH_BINS)

# vmlinux.h is dumped from the running kernel's BTF at build time: mptrace
# needs BTF at run time anyway (CO-RE, tp_btf), and the CI machines run the
# kernel they build on. `make vmlinux` refreshes it.
$(BUILD)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(BUILD)
	$(Q)test -r /sys/kernel/btf/vmlinux || { echo "mptrace: /sys/kernel/btf/vmlinux is missing: this kernel lacks BTF (CONFIG_DEBUG_INFO_BTF=y is needed)" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

vmlinux:
	$(Q)rm -f $(BUILD)/vmlinux.h
	$(Q)$(MAKE) --no-print-directory $(BUILD)/vmlinux.h

$(BUILD)/mptrace.bpf.o: bpf/mptrace.bpf.c bpf/events.h bpf/core_fixes.bpf.h $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -I$(BUILD) -Ibpf -c $< -o $@

$(BUILD)/mptrace.skel.h: $(BUILD)/mptrace.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name mptrace_bpf > $@

$(USER_OBJS) $(SAN_OBJS): $(BUILD)/mptrace.skel.h

$(BUILD)/obj/%.o: user/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/san/obj/%.o: user/%.c
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -c $< -o $@

$(BUILD)/mptrace: $(USER_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# The same program with AddressSanitizer and UBSan: what the tests run.
san: $(BUILD)/san/mptrace
$(BUILD)/san/mptrace: $(SAN_OBJS)
	$(call msg,LD-SAN,$@)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/examples/%: examples/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -Wextra -pthread -o $@ $< -lrt

# loads the BPF object with the whole and the cut-down kernel BTF (user/corebtf.c)
$(BUILD)/tests/corebtf_check: tests/helpers/corebtf_check.c user/corebtf.c user/corebtf.h $(BUILD)/mptrace.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -Wextra -I$(BUILD) -Iuser -D_GNU_SOURCE -o $@ tests/helpers/corebtf_check.c user/corebtf.c -lbpf -lelf -lz

$(BUILD)/tests/%: tests/helpers/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -Wextra -o $@ $<

$(BUILD)/bench/%: bench/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -Wall -Wextra -pthread -o $@ $< -lrt

$(BUILD)/unit/%: tests/unit/%.c tests/unit/tap.h tests/unit/synth.h $(PURE_SAN)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -Itests/unit $< $(PURE_SAN) -o $@ -lz -lm

deps:
	$(Q)sh scripts/install-deps.sh build

deps-test:
	$(Q)sh scripts/install-deps.sh test

unit: $(UNIT_BINS)
	$(Q)set -e; for t in $(UNIT_BINS); do $$t; done

bats: all san
	$(Q)MPTRACE=$(CURDIR)/$(BUILD)/san/mptrace bats --tap tests/

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(BUILD)/mptrace -- $(BUILD)/examples/ticket_demo

check: deps-test
	$(Q)$(MAKE) --no-print-directory all san $(UNIT_BINS)
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory bats

KERNELS ?= 6.1 6.12
kernel-test: all
	$(Q)sh scripts/install-deps.sh kernel
	$(Q)KERNEL_IMAGE="$(KERNEL_IMAGE)" KERNEL_MODULES="$(KERNEL_MODULES)" \
		bash scripts/kernel-test/run.sh $(KERNELS)

bench: all
	$(Q)bash bench/run.sh
	$(Q)if [ "$${BENCH_SOAK:-1}" != 0 ]; then bash bench/soak.sh; fi
	$(Q)if [ "$${BENCH_DAEMON:-1}" != 0 ]; then bash bench/daemon.sh; fi

# Not in .ci/run: one rebuild and test run per mutation (tests/mutations/README.md).
# the suite RUNS times in a row beside a CPU hog (flaky tests show here)
RUNS ?= 10
check-repeat: deps-test
	$(Q)bash scripts/check-repeat.sh $(RUNS)

mutate: all san $(UNIT_BINS)
	$(Q)python3 scripts/mutate.py $(if $(MUTATE),'$(MUTATE)')

FUZZ_SECS ?= 60
fuzz:
	$(Q)bash tests/fuzz/run.sh $(FUZZ_SECS)

install: $(BUILD)/mptrace
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BUILD)/mptrace $(DESTDIR)$(PREFIX)/bin/mptrace
	install -m 0644 docs/mptrace.1 $(DESTDIR)$(PREFIX)/share/man/man1/mptrace.1
	install -d $(DESTDIR)$(PREFIX)/share/mptrace
	install -m 0644 docs/report.schema.json $(DESTDIR)$(PREFIX)/share/mptrace/report.schema.json
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|@BINDIR@|$(PREFIX)/bin|g' examples/systemd/mptrace.service > $(DESTDIR)$(SYSTEMDUNITDIR)/mptrace.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/mptrace.service

clean:
	rm -rf $(BUILD)

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/san/obj/*.d $(BUILD)/unit/*.d)
