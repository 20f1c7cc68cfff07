# The README's two commands are `make run` and `make test`.
GO ?= go

.PHONY: run test test-full vet fmt-check bench bench-scale bugs oracle-table shrink-table shrink-table-production soak seeds azurite chaos chaos-short

AZURITE := tools/azurite/node_modules/.bin/azurite-table

run:
	$(GO) run ./cmd/mtabletest -iterations 1000 -seed 314159

# The whole suite in its -short form, then the short fault campaign of
# mtable migrate on Azurite (the CI gate: .ci/run calls exactly this).
test: azurite vet fmt-check
	$(GO) test -short -count=1 ./...
	$(GO) run ./cmd/mtablechaos -short -seed $(CHAOS_SEED)

test-full: azurite
	$(GO) test -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -l lists:"; echo "$$out"; exit 1; fi

# -short skips only the Azurite large-partition benchmark (an hour of
# loading); bench-scale runs it and its in-memory twin, five times
# (MTABLE_LARGE_ROWS=20000 make bench-scale: a smaller partition, loaded
# in minutes).
bench: azurite
	$(GO) test -short -run '^$$' -bench . -benchmem ./...

bench-scale: azurite
	$(GO) test -p 1 -run '^$$' -bench LargePartition -benchtime 3s -count 5 -timeout 0 ./mtable ./mtable/aztable

# The gate: the correct library clean, every catchable bug found, with
# the table of time to first failure and the shrunk sizes of each bug's
# first failure (20,000 iterations: bug 18 is first found at 15,302).
bugs:
	$(GO) run ./cmd/mtabletest -bug all -seed 314159 -iterations 20000

# Which oracle catches each bug: 3,000 iterations per bug, every oracle
# on, counted per oracle (the README's oracle table).
oracle-table:
	$(GO) run ./cmd/mtabletest -oracle-table -seed 314159

# The shrinker measured: every catchable bug from seeds 1 to 10, its first
# failure shrunk on one core (the README's table of shrink results).
shrink-table:
	GOMAXPROCS=1 $(GO) test -count=1 -cpu 1 -timeout 30m ./harness -run TestShrinkGoals -v

# The same over the default (production) world, every bug it catches,
# with the same goals (about 8 minutes on one core). Either table takes
# MTABLE_SHRINK_BUGS (bug numbers: 0,1,3) and MTABLE_SHRINK_SEEDS (base
# seeds: 1-3 or 1,2,5-10) for a cheaper run of some bugs and seeds, e.g.
#   MTABLE_SHRINK_BUGS=0,1 MTABLE_SHRINK_SEEDS=1-3 make shrink-table-production
shrink-table-production:
	MTABLE_SHRINK_WORLD=production GOMAXPROCS=1 $(GO) test -count=1 -cpu 1 -timeout 60m ./harness -run TestShrinkGoals -v

# A long clean run of the correct library.
SOAK_ITERATIONS ?= 100000
SOAK_SEED ?= 271828
soak:
	$(GO) run ./cmd/mtabletest -iterations $(SOAK_ITERATIONS) -seed $(SOAK_SEED)

# Regenerate the seed corpus deliberately (after a change that makes the
# recorded schedules diverge).
seeds:
	$(GO) run ./cmd/mtabletest -seeds testdata/seeds

# The fault campaign of mtable migrate on Azurite (loopback only): at
# least 30 kills, 5 stalls past the lease and 3 restarts of Azurite from
# disk during a real migration with writer processes; fails unless no
# acknowledged write was lost. About 5 minutes; bounded by -timeout.
CHAOS_SEED ?= 1
chaos: azurite
	$(GO) run ./cmd/mtablechaos -seed $(CHAOS_SEED)

# The short campaign CI runs (a few kills, one stall, one restart; about
# a minute).
chaos-short: azurite
	$(GO) run ./cmd/mtablechaos -short -seed $(CHAOS_SEED)

# Installs the Azure Storage emulator the adapter tests run against
# (pinned in tools/azurite/package-lock.json). Without npm the Azure tests
# say so and skip.
azurite:
	@if [ -x $(AZURITE) ]; then :; \
	elif command -v npm >/dev/null 2>&1; then npm ci --prefix tools/azurite --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the Azure adapter tests will skip"; fi
