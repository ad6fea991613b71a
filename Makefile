# medmatch — see README.md.
GO ?= go

.PHONY: test bench lint build fuzz run

# The whole test suite, with the race detector. CI runs exactly this.
test:
	$(GO) test -race -count=1 ./...

# Benchmarks (need ../shared/data/csl for the corpus ones; they skip without it).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Formatting and vet.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Fuzz the analyzer's offsets and the labels reader, a minute each.
fuzz:
	$(GO) test ./dict -run '^$$' -fuzz FuzzOffsets -fuzztime 60s
	$(GO) test ./matcher -run '^$$' -fuzz FuzzReadLabels -fuzztime 60s

build:
	$(GO) build -o bin/medmatch ./cmd/medmatch

run:
	$(GO) run ./cmd/medmatch serve --demo
