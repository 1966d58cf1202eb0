# ckptsim: common tasks. `make` runs the tests; `make ci` what CI runs.
GO ?= go

.PHONY: test race lint ci props exhaustive differential fuzz mutants golden compat format-change bench bench-scale

test:
	$(GO) test ./...

# The race detector on the kernel, the object hash and the engine.
race:
	$(GO) test -race ./sim/... ./objhash/... ./ckpt/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

ci:
	./.ci/run

# The packages whose tests use rapid: only their test binaries know the
# -rapid.* flags.
RAPID_PKGS = $(sort $(foreach f,$(shell grep -rl --include='*_test.go' 'pgregory.net/rapid' .),$(patsubst %/,%,$(dir $(f)))))

# Every property test at the deep budget: each rapid property 10,000 times
# (go test ./... runs each 100 times).
props:
	$(GO) test $(RAPID_PKGS) -count=1 -rapid.checks=10000 -timeout 60m

# Every small world: each sharing shape of up to 3 tasks x 3 pipes and of
# up to 3 tasks x 1 socket pair, and each file opened and F_SETFL'd with
# every combination of flags, checkpointed, restarted, compared and run on
# in lockstep, over GOMAXPROCS workers (go test ./... checks a sample).
exhaustive:
	$(GO) test ./props -run '^TestExhaustive' -count=1 -v -exhaustive -timeout 60m

# The differential test deep: 2,000 generated call sequences, each run on
# the simulator and on this machine's Linux kernel in lockstep (needs Linux,
# root and a C compiler; go test ./... runs a dozen). A disagreement is
# shrunk and printed as a script with Linux's results.
DIFFERENTIAL_CHECKS ?= 2000
differential:
	$(GO) test ./props -run '^TestDifferential$$' -count=1 -v -rapid.checks=$(DIFFERENTIAL_CHECKS) -timeout 60m

# The native fuzz targets, each for FUZZTIME (go test -fuzz runs one
# target per invocation), then the complete sweep of every bit flip and
# prefix of five golden images. A crash the fuzzer finds is written under
# the package's testdata/fuzz/TARGET/, where go test replays it from then
# on. Every target runs even when one fails; the failures are listed at
# the end. Set CKPTSIM_ALLOC_LOG=FILE to collect each target's worst
# allocation (bytes allocated per input byte).
FUZZTIME ?= 1m
FUZZ_TARGETS = ./ckpt:FuzzRestart ./ckpt/image:FuzzReader ./inspect:FuzzEncode ./scenario:FuzzParse
fuzz:
	@failed=""; \
	for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s $$pkg || failed="$$failed $$name"; \
	done; \
	echo "== the sweep"; \
	$(GO) test ./ckpt -run '^TestSweepGoldenImages$$' -count=1 -v -timeout 60m -sweep.full || failed="$$failed sweep"; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed"; exit 1; fi

# Deliberate engine bugs, each in a scratch copy of the tree: the tests must
# fail on every one. Prints how many were killed.
mutants:
	$(GO) run ./props/mutants

# Rewrite the golden images after an intended format change; review the
# diff of golden/testdata/golden before committing it.
golden:
	$(GO) test ./golden -run '^TestGolden$$' -count=1 -update

# Keep the images of the current format version under
# golden/testdata/compat/VERSION, before the format moves on.
compat:
	$(GO) test ./golden -run '^TestGolden$$' -count=1 -compat-snapshot

# Show the golden harness catching a format change made in a scratch copy.
format-change:
	$(GO) run ./golden/formatchange

# Benchmarks, each reported beside a baseline from the same run (the x-...
# columns are the ratios, each the median of five rounds that alternate
# the engine and its baseline, in CPU time: the machine is shared). Each
# benchmark runs once (-benchtime 1x: its rounds are its repetitions);
# BENCH picks which.
BENCH ?= .
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime 1x -benchmem ./...

# The scaling benchmarks from 1k objects to CKPTSIM_SCALE (a million by
# default), per object against a plain walk of the same world, then the
# peak memory of migrating a world of each shape at that size.
CKPTSIM_SCALE ?= 1000000
bench-scale:
	CKPTSIM_SCALE=$(CKPTSIM_SCALE) $(GO) test -run '^$$' -bench '^BenchmarkScale$$' -benchtime 1x -timeout 2h ./ckpt
	for s in table shared own pipes files chain; do $(GO) run ./internal/rssmigrate -shape $$s -n $(CKPTSIM_SCALE); done
