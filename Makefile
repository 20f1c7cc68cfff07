# The README's two commands are `make run` and `make test`.
GO ?= go

.PHONY: run test test-full vet fmt-check bench bugs soak azurite

run:
	$(GO) run ./cmd/mtabletest -iterations 1000 -seed 314159

# The whole suite in its -short form (the CI gate).
test: vet fmt-check
	$(GO) test -short -count=1 ./...

test-full:
	$(GO) test -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -l lists:"; echo "$$out"; exit 1; fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
