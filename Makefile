# ckptsim: common tasks. `make` runs the tests; `make ci` what CI runs.
GO ?= go

.PHONY: test race lint ci props bench

test:
	$(GO) test ./...

# The race detector on the kernel, the object hash and the engine.
race:
	$(GO) test -race $(foreach d,sim objhash ckpt,$(if $(wildcard $(d)),./$(d)/...))

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

ci:
	./.ci/run

# Property tests with the deep budget: every property at least 10,000 times.
props:
	$(GO) test ./sim/kernel/ -run TestKernelAgainstModel -rapid.checks=10000 -rapid.steps=100 -timeout 60m

# Benchmarks, each reported beside a baseline from the same run.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
