# xdp-pong: `make` builds build/xdp-pong (the BPF object embedded as a skeleton);
# it installs nothing, and names the Debian packages that are missing.
# `make demo`, `make check`, `make bench` and `make deb` first install what they need
# (scripts/deps.sh demo|check|bench|deb, as root).

BUILD    ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PYTHON   ?= /usr/bin/python3

CFLAGS   ?= -O2 -g
CFLAGS   += -Wall -Wextra -I$(BUILD) -Ixdp -Iloader
LDLIBS   := $(shell pkg-config --libs libxdp libbpf 2>/dev/null || echo -lxdp -lbpf -lelf -lz)
CLI_LIBS := $(LDLIBS) $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd) -lpthread
ASAN_FLAGS := -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# BPF objects are built against kernel and libbpf headers only, never the C
# library's: -nostdinc, and $(BPF_INC) holds nothing else. A .bpf.c that
# reaches a libc header (as <linux/if.h> does with <sys/socket.h>) fails to
# build with "file not found"; `make lint` checks that this guard holds.
BPF_INC  := $(BUILD)/bpf-include
# -fdebug-prefix-map: the BTF embedded in the CLI names sources by relative path, not the build directory.
# -fno-strict-aliasing: packet bytes are read and written through several widths (an address as
# 32-bit words for a checksum, then copied as 64-bit words), as the kernel itself does
BPF_CFLAGS := -g -O2 -fno-strict-aliasing -fdebug-prefix-map=$(CURDIR)=. -target bpf -mcpu=v3 -Wall -Wextra -nostdinc -isystem $(BPF_INC) -Ixdp

BPF_HDRS := xdp/pong.h $(wildcard xdp/lib/*.h)
CLI_SRCS := $(wildcard loader/*.c)
CLI_HDRS := $(wildcard loader/*.h) xdp/pong.h
CLI_OBJS := $(patsubst loader/%.c,$(BUILD)/obj/%.o,$(CLI_SRCS))
ASAN_OBJS := $(patsubst loader/%.c,$(BUILD)/asan/obj/%.o,$(CLI_SRCS))
BENCH_BINS := $(BUILD)/pong-gen $(BUILD)/reflect.bpf.o

.PHONY: all build-deps bpf-libc-guard bpf-headers-alone deps demo check bench deb fuzz soak lint install clean
all: build-deps $(BUILD)/xdp-pong $(BUILD)/pass.bpf.o $(BUILD)/pong-testrun $(BENCH_BINS) $(BUILD)/asan/xdp-pong

$(BUILD) $(BUILD)/obj $(BUILD)/asan/obj:
	mkdir -p $@

# Says which packages are missing, and installs nothing (NO_DEPS_CHECK=1 skips it).
build-deps:
ifndef NO_DEPS_CHECK
	@./scripts/deps.sh --check build
endif

$(BPF_INC)/.done: | $(BUILD)
	rm -rf $(BPF_INC) && mkdir -p $(BPF_INC)/xdp
	ln -s /usr/include/linux /usr/include/asm-generic /usr/include/bpf $(BPF_INC)/
	ln -s /usr/include/$(shell $(CC) -dumpmachine)/asm $(BPF_INC)/asm
	ln -s /usr/include/xdp/xdp_helpers.h $(BPF_INC)/xdp/
	touch $@

# The datapath, and its skeleton for the CLI
$(BUILD)/pong.bpf.o: xdp/pong.bpf.c $(BPF_HDRS) $(BPF_INC)/.done | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/pong.skel.h: $(BUILD)/pong.bpf.o
	$(BPFTOOL) gen skeleton $< name pong > $@.tmp && mv $@.tmp $@

# The CLI: one object per source (tests/cli/test_layering.py reads their symbols)
$(BUILD)/obj/%.o: loader/%.c $(CLI_HDRS) $(BUILD)/pong.skel.h | $(BUILD)/obj
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/xdp-pong: $(CLI_OBJS)
	$(CC) $(CFLAGS) $^ -o $@ $(CLI_LIBS)

# The CLI once more with AddressSanitizer and UndefinedBehaviorSanitizer, for make check.
$(BUILD)/asan/obj/%.o: loader/%.c $(CLI_HDRS) $(BUILD)/pong.skel.h | $(BUILD)/asan/obj
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -c $< -o $@

$(BUILD)/asan/xdp-pong: $(ASAN_OBJS)
	$(CC) $(CFLAGS) $(ASAN_FLAGS) $^ -o $@ $(CLI_LIBS)

# Unit-test driver: runs frames through the real program with BPF_PROG_TEST_RUN,
# with the CLI's own code for names, prefixes and limits.
TESTRUN_OBJS := $(addprefix $(BUILD)/obj/,names.o util.o prog.o policy.o own.o)
$(BUILD)/pong-testrun: tests/datapath/testrun.c $(TESTRUN_OBJS) $(CLI_HDRS) $(BUILD)/pong.skel.h
	$(CC) $(CFLAGS) tests/datapath/testrun.c $(TESTRUN_OBJS) -o $@ $(LDLIBS)

# The lab's XDP_PASS program for veth peers (scripts/lab/lab.py)
$(BUILD)/pass.bpf.o: scripts/lab/pass.bpf.c $(BPF_INC)/.done | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Benchmark tools: live-frames generator with its sink, and the XDP_TX ceiling.
$(BUILD)/%.bpf.o: scripts/bench/%.bpf.c scripts/bench/bench.h $(BPF_INC)/.done | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -Iscripts/bench -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $* > $@.tmp && mv $@.tmp $@

$(BUILD)/pong-gen: scripts/bench/pong-gen.c scripts/bench/bench.h $(BUILD)/gen.skel.h $(BUILD)/sink.skel.h
	$(CC) $(CFLAGS) -Iscripts/bench $< -o $@ $(LDLIBS) -lpthread

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, the man page, the systemd template unit,
# the bash completion. Nothing is enabled or started.
PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
install: $(BUILD)/xdp-pong
	install -D -m 0755 $(BUILD)/xdp-pong $(DESTDIR)$(SBINDIR)/xdp-pong
	install -D -m 0644 loader/xdp-pong.8 $(DESTDIR)$(MANDIR)/man8/xdp-pong.8
	install -D -m 0644 scripts/packaging/xdp-pong.bash-completion $(DESTDIR)$(COMPLETIONDIR)/xdp-pong
	mkdir -p $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' loader/xdp-pong@.service > $(DESTDIR)$(UNITDIR)/xdp-pong@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/xdp-pong@.service

# Everything any target needs; demo, check, bench and deb install only their own.
deps:
	./scripts/deps.sh check bench deb

# The Debian package, built and checked by lintian in a throwaway bookworm root
# (scripts/packaging/deb.sh): build/deb/xdp-pong_VERSION-1_ARCH.deb. As root.
deb:
	./scripts/deps.sh deb
	./scripts/packaging/deb.sh

demo:
	./scripts/deps.sh demo
	$(MAKE) all
	./scripts/demo.sh

# The whole suite (pytest, see tests/README.md). PYTEST_ARGS
# narrows it: make check PYTEST_ARGS='-k ndp' or PYTEST_ARGS='-m "not slow"'.
check:
	./scripts/deps.sh check
	$(MAKE) all
	$(MAKE) lint
	$(PYTHON) tests/run.py $(PYTEST_ARGS)

bench:
	./scripts/deps.sh bench
	$(MAKE) all
	$(PYTHON) scripts/bench/bench.py $(BENCH_ARGS)

# Differential fuzzing, longer than make check's 200,000 frames: make fuzz N=2000000 [SEED=S]
N ?= 2000000
fuzz: all
	$(PYTHON) tests/datapath/fuzz.py --count $(N) $(if $(SEED),--seed $(SEED))

# The full soak and churn (make check runs 1,000,000 requests and 20 cycles)
soak: all
	SOAK_REQUESTS=10000000 CHURN_CYCLES=100 $(PYTHON) tests/run.py tests/load/test_soak.py

# Static analysis, run by make check: cppcheck on all C, clang-tidy on userspace,
# the BPF headers each compiled alone, no C library header reachable from BPF code.
CPPCHECK := cppcheck --enable=warning,style,performance,portability --error-exitcode=1 --quiet \
	--inline-suppr --suppress=missingIncludeSystem --suppress=missingInclude
TIDY_CHECKS := -*,clang-analyzer-*,bugprone-*,performance-*,portability-*,misc-*,\
	-bugprone-easily-swappable-parameters,-bugprone-macro-parentheses,-misc-unused-parameters,\
	-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling,-clang-analyzer-valist.Uninitialized,\
	-clang-analyzer-unix.Malloc
USER_SRCS := $(CLI_SRCS) tests/datapath/testrun.c scripts/bench/pong-gen.c
BPF_SRCS := xdp/pong.bpf.c scripts/lab/pass.bpf.c $(wildcard scripts/bench/*.bpf.c)
lint: $(BUILD)/pong.skel.h $(BUILD)/gen.skel.h $(BUILD)/sink.skel.h bpf-libc-guard bpf-headers-alone
	$(CPPCHECK) -I xdp -I loader -I $(BUILD) -I scripts/bench \
		--include=/usr/include/bpf/libbpf_common.h $(USER_SRCS)
	$(CPPCHECK) -I xdp -I scripts/bench --include=/usr/include/bpf/bpf_helpers.h \
		'-D__uint(n,v)=int(*n)[v]' '-D__type(n,v)=v *n' --suppress=arithOperationsOnVoidPointer \
		$(BPF_SRCS)
	clang-tidy --quiet --warnings-as-errors='*' -checks='$(TIDY_CHECKS)' $(USER_SRCS) -- \
		-isystem $(BUILD) -Ixdp -Iloader -Iscripts/bench

# Each datapath header compiles on its own: it includes what it uses.
bpf-headers-alone: $(BPF_INC)/.done
	@for h in xdp/lib/*.h; do \
		$(CLANG) $(BPF_CFLAGS) -Werror -Wno-unused-function -fsyntax-only -x c "$$h" || { echo "$$h does not compile alone" >&2; exit 1; }; \
	done
	@echo "bpf-headers-alone: every xdp/lib/*.h compiles on its own"

# The BPF build must not find the C library's headers at all (found, not
# merely compiling: on a machine with gcc-multilib they would compile).
bpf-libc-guard: $(BPF_INC)/.done
	@for h in features.h gnu/stubs.h sys/socket.h stdio.h stdlib.h string.h; do \
		if ! printf '#if __has_include(<%s>)\n#error\n#endif\n' "$$h" | \
			$(CLANG) $(BPF_CFLAGS) -fsyntax-only -x c - 2>/dev/null; then \
			echo "bpf-libc-guard: <$$h> is reachable under BPF_CFLAGS: BPF code could use the C library" >&2; \
			exit 1; \
		fi; \
	done
	@echo "bpf-libc-guard: no C library header is reachable from BPF code"

clean:
	rm -rf $(BUILD)
.SECONDARY:
