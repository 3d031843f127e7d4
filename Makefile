# alsim — make | make test | make asan | make bench | make CUDA=0 | make setup
#
# One library of everything but main (build/libalsim.a), the alsim binary at the top, and
# one program per tests/test_*.c. Says what it built and what it left out.

CC      ?= cc
# -march=native: the MC-dropout hash and the elementwise ops vectorise (2.4x faster scoring
# on an AVX-512 machine). For a binary that must run on another CPU: make ARCH=x86-64-v2
ARCH    ?= native
CFLAGS  ?= -O3 -g -march=$(ARCH)
WARN    := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes
CPPFLAGS_ALSIM := -I. -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -MMD -MP
LDLIBS  := -lgsl -lcjson -lopenblas -lm -lpthread

GIT_REV := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)

# CUDA: auto-detected (nvcc on PATH or in /usr/local/cuda); CUDA=0 forces the CPU-only build.
NVCC ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
ifeq ($(CUDA),0)
  HAVE_CUDA :=
else ifneq ($(wildcard sim/backend_cuda.cu),)
  HAVE_CUDA := $(if $(NVCC),1,)
endif

B ?= build
LIB_SRC  := $(filter-out sim/main.c,$(wildcard sim/*.c strategies/*.c datasets/*.c reports/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(B)/tests/%)
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)

ifeq ($(HAVE_CUDA),1)
  CUDA_HOME := $(patsubst %/bin/nvcc,%,$(NVCC))
  LIB_OBJ += $(B)/sim/backend_cuda.o
  CPPFLAGS_ALSIM += -DALSIM_CUDA=1
  LDLIBS  += -L$(CUDA_HOME)/lib64 -lcudart -lcublas -lstdc++
endif

ALL_CFLAGS = $(CPPFLAGS_ALSIM) -DALSIM_GIT_REV=\"$(GIT_REV)\" $(WARN) $(CFLAGS) $(EXTRA_CFLAGS)

.PHONY: all info test test-slow asan bench setup clean
all: info alsim

info:
	@echo "alsim build ($(B)):"
	@echo "  ✓ CPU backend (OpenBLAS gemm)"
	@if [ "$(HAVE_CUDA)" = 1 ]; then echo "  ✓ CUDA backend ($(NVCC))"; \
	 elif [ "$(CUDA)" = 0 ]; then echo "  ✗ CUDA backend (CUDA=0)"; \
	 elif [ -z "$(wildcard sim/backend_cuda.cu)" ]; then echo "  ✗ CUDA backend (not written yet)"; \
	 else echo "  ✗ CUDA backend (nvcc not found)"; fi

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/sim/backend_cuda.o: sim/backend_cuda.cu sim/backend.h sim/rng.h
	@mkdir -p $(dir $@)
	$(NVCC) -O2 -I. -c $< -o $@

$(B)/libalsim.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

alsim: $(B)/sim/main.o $(B)/libalsim.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/alsim: $(B)/sim/main.o $(B)/libalsim.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: tests/%.c $(B)/libalsim.a tests/check.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/libalsim.a $(LDLIBS)

$(B)/bench/%: bench/%.c $(B)/libalsim.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/libalsim.a $(LDLIBS)

# The default suite: unit tests, then end-to-end runs of the binary (tests/e2e.sh), ending
# with one line of totals. A few minutes on 2 cores.
test: $(TEST_BIN) $(B)/alsim
	@ALSIM=$(B)/alsim sh tests/run.sh $(TEST_BIN)

# Slow checks outside the default suite (full MNIST training, >= 97% test accuracy).
test-slow: $(B)/alsim
	@ALSIM=$(B)/alsim sh tests/slow.sh

# AddressSanitizer + UndefinedBehaviorSanitizer, no recovery: unit and malformed-input tests.
asan:
	$(MAKE) B=build-asan CUDA=0 \
	  EXTRA_CFLAGS="-O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  build-asan/alsim $(TEST_SRC:tests/%.c=build-asan/tests/%)
	@ASAN_OPTIONS=detect_leaks=1 ALSIM=build-asan/alsim \
	  sh tests/run.sh $(TEST_SRC:tests/%.c=build-asan/tests/%)

# Benchmarks (not tests): appends a dated section to bench/RESULTS.md.
bench: $(B)/alsim $(BENCH_BIN)
	@ALSIM=$(B)/alsim BENCH_BIN=$(B)/bench sh bench/run.sh

# Installs what is missing from Debian's packages, saying what it installs.
DEB_PACKAGES := build-essential libgsl-dev libcjson-dev libopenblas-dev libopenblas0-pthread \
                gnuplot-nox ca-certificates git time
setup:
	@missing=""; \
	for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm  >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -z "$$missing" ]; then echo "setup: all needed packages are installed"; exit 0; fi; \
	echo "setup: installing from Debian:$$missing"; \
	SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing

clean:
	rm -rf build build-asan alsim

-include $(LIB_OBJ:.o=.d) $(B)/sim/main.d
