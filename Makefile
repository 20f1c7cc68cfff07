# The README's two commands are `make run` and `make test`.
GO ?= go

.PHONY: run test test-full vet fmt-check bench bench-scale bugs soak seeds azurite

AZURITE := tools/azurite/node_modules/.bin/azurite-table

run:
	$(GO) run ./cmd/mtabletest -iterations 1000 -seed 314159

# The whole suite in its -short form (the CI gate).
test: azurite vet fmt-check
	$(GO) test -short -count=1 ./...

test-full: azurite
	$(GO) test -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -l lists:"; echo "$$out"; exit 1; fi

# -short skips only the Azurite large-partition benchmark (an hour of
# loading); bench-scale runs it and its in-memory twin, five times.
bench: azurite
	$(GO) test -short -run '^$$' -bench . -benchmem ./...

bench-scale: azurite
	$(GO) test -p 1 -run '^$$' -bench LargePartition -benchtime 3s -count 5 -timeout 0 ./mtable ./mtable/aztable

# The gate: the correct library clean, every catchable bug found, with
# the table of time to first failure.
bugs:
	$(GO) run ./cmd/mtabletest -bug all -seed 314159

# A long clean run of the correct library.
SOAK_ITERATIONS ?= 100000
SOAK_SEED ?= 271828
soak:
	$(GO) run ./cmd/mtabletest -iterations $(SOAK_ITERATIONS) -seed $(SOAK_SEED)

# Regenerate the seed corpus deliberately (after a change that makes the
# recorded schedules diverge).
seeds:
	$(GO) run ./cmd/mtabletest -seeds testdata/seeds

# Installs the Azure Storage emulator the adapter tests run against
# (pinned in tools/azurite/package-lock.json). Without npm the Azure tests
# say so and skip.
azurite:
	@if [ -x $(AZURITE) ]; then :; \
	elif command -v npm >/dev/null 2>&1; then npm ci --prefix tools/azurite --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the Azure adapter tests will skip"; fi
