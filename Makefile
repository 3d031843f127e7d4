# alsim — make | make test | make asan | make bench | make bench-cnn | make bench-bert | make CUDA=0 | make setup
#         make test-cuda | make bench-cuda | make device-bundle (the GPU checks; README)
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
# The toolkit's root is asked of nvcc itself (its TOP), not guessed from where nvcc sits:
# /usr/local/bin/nvcc may be a wrapper script around /usr/local/cuda-13.0/bin/nvcc.
ifeq ($(CUDA),0)
  HAVE_CUDA :=
else ifneq ($(wildcard sim/backend_cuda.cu),)
  ifneq ($(NVCC),)
    ifeq ($(origin CUDA_HOME),undefined)
      CUDA_HOME := $(realpath $(shell $(NVCC) --dryrun -c -x cu /dev/null -o /dev/null 2>&1 | sed -n 's/^\#\$$ TOP=//p' | head -n 1))
    endif
    HAVE_CUDA := $(if $(wildcard $(CUDA_HOME)/lib64/libcudart_static.a),1,)
    NO_CUDA_WHY := $(if $(HAVE_CUDA),,no libcudart_static.a under $(or $(CUDA_HOME),the root nvcc reports); set CUDA_HOME=)
  endif
endif

B ?= build
LIB_SRC  := $(filter-out sim/main.c,$(wildcard sim/*.c strategies/*.c datasets/*.c reports/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(B)/tests/%)
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)

ifeq ($(HAVE_CUDA),1)
  LIB_OBJ += $(B)/sim/backend_cuda.o
  CPPFLAGS_ALSIM += -DALSIM_CUDA=1
  # cudart linked statically (nothing to find at run time; it needs -ldl -lrt); cuBLAS opened
  # with dlopen only when a GPU is used (backend_cuda.cu), found through an rpath to the
  # toolkit, so the binary runs without LD_LIBRARY_PATH. It starts, and falls back to the CPU,
  # on a machine without a GPU or driver.
  LDLIBS  += -L$(CUDA_HOME)/lib64 -lcudart_static -ldl -lrt -lstdc++ \
             -Wl,-rpath,$(CUDA_HOME)/lib64
endif
# Kernels: machine code for sm_$(CUDA_ARCH) plus its PTX, which newer GPUs compile at load.
# 90 = Hopper (H100, H200); e.g. CUDA_ARCH=80 for an A100. Building needs no GPU.
# -fmad=false: no multiply-add contraction, as the CPU build (GCC in C11 mode), so the
# elementwise ops round like backend_cpu.c (see backend_cuda.cu).
CUDA_ARCH ?= 90
NVCCFLAGS ?= -O3 -g
NVCC_ALL = -std=c++20 -I. -fmad=false -DALSIM_CUDA_ARCH=\"$(CUDA_ARCH)\" \
           -gencode arch=compute_$(CUDA_ARCH),code=sm_$(CUDA_ARCH) \
           -gencode arch=compute_$(CUDA_ARCH),code=compute_$(CUDA_ARCH) \
           -Xcompiler -Wall,-Wextra,-Wno-unused-parameter $(NVCCFLAGS)

ALL_CFLAGS = $(CPPFLAGS_ALSIM) \
             -DALSIM_DEFAULT_POLICY=\"$(CURDIR)/strategies/default-policy.json\" \
             $(WARN) $(CFLAGS) $(EXTRA_CFLAGS)

.PHONY: all info test test-slow test-slurm asan valgrind cppcheck fuzz bench bench-cnn bench-bert bench-setup default-policy setup clean test-cuda bench-cuda device-bundle
all: info alsim

info:
	@echo "alsim build ($(B)):"
	@echo "  ✓ CPU backend (OpenBLAS gemm)"
	@if [ "$(HAVE_CUDA)" = 1 ]; then echo "  ✓ CUDA backend ($(NVCC), sm_$(CUDA_ARCH))"; \
	 elif [ "$(CUDA)" = 0 ]; then echo "  ✗ CUDA backend (CUDA=0)"; \
	 elif [ -z "$(wildcard sim/backend_cuda.cu)" ]; then echo "  ✗ CUDA backend (not written yet)"; \
	 elif [ -n "$(NO_CUDA_WHY)" ]; then echo "  ✗ CUDA backend ($(NO_CUDA_WHY))"; \
	 else echo "  ✗ CUDA backend (nvcc not found)"; fi

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# util.c alone holds the source revision: a stamp that changes with it (a commit, an edit)
# recompiles util.o, so config.json, baselines and policies never name a stale revision.
REV_STAMP := $(B)/.git-rev
$(REV_STAMP): FORCE
	@mkdir -p $(B); echo '$(GIT_REV)' | cmp -s - $@ || echo '$(GIT_REV)' >$@
$(B)/sim/util.o: $(REV_STAMP)
$(B)/sim/util.o: ALL_CFLAGS += -DALSIM_GIT_REV=\"$(GIT_REV)\"
.PHONY: FORCE
FORCE:

# AdamW's sqrtf vectorises only when it need not set errno: 4x faster steps with the 2^18-wide
# first layer of text. Same bits (sqrt is exact either way); the backend never reads errno.
$(B)/sim/backend_cpu.o: ALL_CFLAGS += -fno-math-errno

$(B)/sim/backend_cuda.o: sim/backend_cuda.cu sim/backend.h sim/rng.h strategies/formulas.h
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCC_ALL) -c $< -o $@

# backend.c alone changes with the choice (ALSIM_CUDA): a stamp named after it makes switching
# between `make` and `make CUDA=0` in one build folder recompile it (and relink).
CUDA_STAMP := $(B)/.cuda-$(if $(HAVE_CUDA),on,off)
$(CUDA_STAMP):
	@mkdir -p $(B) && rm -f $(B)/.cuda-on $(B)/.cuda-off && touch $@
$(B)/sim/backend.o: $(CUDA_STAMP)

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

# run_all.sh --slurm against a real single-node Slurm cluster it starts and stops (installs
# slurm-wlm and munge when missing; run as root). About 30 s plus the install; .ci/run runs it.
test-slurm: $(B)/alsim
	@ALSIM=$(B)/alsim sh tests/slurm.sh

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

# valgrind on one small end-to-end run: any memory error or definite leak fails it. Its own
# build: valgrind 3.19 knows no AVX-512 (so no -march=native) and no CUDA runtime.
VALGRIND_RUN := --device cpu --dataset synthetic:blobs:k=3,d=8,n=300,test=100 --strategy bald \
                --rounds 2 --batch 4 --init 6 --hidden 16 --epochs 3 --mc 4 --quiet
valgrind:
	$(MAKE) B=build-valgrind CUDA=0 ARCH=x86-64-v2 build-valgrind/alsim
	@rm -rf build-valgrind/runs
	valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
	  build-valgrind/alsim $(VALGRIND_RUN) --out build-valgrind/runs
	@echo "valgrind: 1 passed, 0 failed"

# cppcheck over every C file (bugs, performance, portability; style is left to review): a
# finding fails it unless an inline comment justifies it.
cppcheck:
	cppcheck -q --error-exitcode=1 --enable=warning,performance,portability --std=c11 \
	  --inline-suppr -I. --suppress=missingIncludeSystem sim strategies datasets reports tests bench
	@echo "cppcheck: 1 passed, 0 failed"

# libFuzzer (clang): every parser's harness in tests/fuzz/ runs FUZZ_SECONDS seconds, one after
# another, seeded from tests/corpus/; a crash leaves its input in build-fuzz/ (tests/fuzz/run.sh).
FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) B=build-fuzz CC=clang CUDA=0 \
	  EXTRA_CFLAGS="-O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	  build-fuzz/libalsim.a
	@FUZZ_B=build-fuzz FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh

# Benchmarks (not tests): appends a dated section to bench/RESULTS.md.
# The CNN section alone (bench/cnn.sh): --model cnn against PyTorch, appended to bench/RESULTS.md.
bench-cnn: bench-setup $(B)/bench/bench_cnn
	@BENCH_BIN=$(B)/bench sh bench/cnn.sh --record

# The BERT encoder (bench/bert.sh): its forward against PyTorch, and a round with each --finetune.
bench-bert: bench-setup $(B)/bench/bench_bert $(B)/alsim
	@ALSIM=$(B)/alsim BENCH_BIN=$(B)/bench sh bench/bert.sh --record

# The rl strategy's shipped policy, trained on every catalogued dataset with the run's
# defaults by DAgger: an episode is a default run (21 fits) plus up to 6 refits at each of its
# 20 rounds, on a pool as large as the smallest (spamassassin's 4,232 rows less the reward
# split). On 2 cores one episode took 21 s on mnist, 23 s on fashion-mnist and 196 s on
# spamassassin (bench/RESULTS.md), so the 300 (100 of each) take about 7 hours; not yet run
# (the shipped file is the init, margin, until it is).
default-policy: $(B)/alsim
	$(B)/alsim train-policy --train mnist+fashion-mnist+spamassassin --episodes 300 --seed 0 \
	  --out strategies/default-policy.json
	@rm -f strategies/default-policy.json.state

# make bench runs bench-setup first: the Python peers (bench/peers/: PyTorch and
# scikit-learn/NumPy doing the same work) are compared when it got them, skipped otherwise.
bench: bench-setup $(B)/alsim $(BENCH_BIN)
	@ALSIM=$(B)/alsim BENCH_BIN=$(B)/bench sh bench/run.sh

# The peers' packages, for make bench only (make test needs none of them): Debian's Python
# (/usr/bin/python3) with python3-torch, python3-sklearn, python3-numpy; says what it installs.
BENCH_PACKAGES := python3-numpy python3-sklearn python3-torch
bench-setup:
	@missing=""; \
	for p in $(BENCH_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "bench-setup: the peers' packages are installed ($(BENCH_PACKAGES))"; exit 0; fi; \
	echo "bench-setup: installing from Debian:$$missing"; \
	SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	{ $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; } \
	  || echo "bench-setup: could not install$$missing: make bench skips the peers it lacks"

# The GPU checks (tests/cuda.sh): every op CPU vs CUDA, a training step, pool probabilities,
# the device score reductions, learning curves CPU vs CUDA. Without a usable GPU, or built
# with CUDA=0, it says so and exits 0.
test-cuda: $(B)/tests/test_backend $(B)/tests/test_cuda $(B)/alsim
	@ALSIM=$(B)/alsim TEST_BIN=$(B)/tests sh tests/cuda.sh

# GPU benchmarks (bench/run_cuda.sh), appended to bench/RESULTS.md; skipped without a GPU.
bench-cuda: $(B)/alsim $(B)/bench/bench_cuda $(B)/bench/bench_bert
	@ALSIM=$(B)/alsim BENCH_BIN=$(B)/bench sh bench/run_cuda.sh

# .device/: what runs the GPU checks on a machine with a GPU that cannot build alsim (CUDA,
# perhaps PyTorch, but no GSL, cJSON, OpenBLAS or network): binaries built here for any
# x86-64-v3, the shared libraries they need, the MNIST cache. bench/device_check.sh runs it
# there (README).
device-bundle:
	@sh bench/device_bundle.sh

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
	rm -rf build build-asan build-fuzz build-valgrind alsim .device

-include $(LIB_OBJ:.o=.d) $(B)/sim/main.d
