# Small targets that call go directly. `make check` is what CI runs.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS  := -s -w -X github.com/truce-dev/truce/internal/version.Version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME ?= 30s

.PHONY: build test lint fuzz bench check

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/truce ./cmd/truce

test:
	$(GO) test ./...

lint:
	@test -z "$$(gofmt -l cmd internal)" || (gofmt -l cmd internal; exit 1)
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Each fuzzer in turn; new findings land in the package's testdata/fuzz.
fuzz:
	$(GO) test ./internal/geo -run '^$$' -fuzz FuzzDecodeFeatures -fuzztime $(FUZZTIME)
	$(GO) test ./internal/agreement -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME)
	$(GO) test ./internal/journal -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)
	$(GO) test ./internal/evidence -run '^$$' -fuzz FuzzParseTilePath -fuzztime $(FUZZTIME)
	$(GO) test ./internal/evidence -run '^$$' -fuzz FuzzParseBundle -fuzztime $(FUZZTIME)
	for f in FuzzJSON FuzzNDJSON FuzzCSV FuzzGeoJSON; do \
		$(GO) test ./internal/ingest -run '^$$' -fuzz $$f -fuzztime $(FUZZTIME) || exit 1; \
	done

# The figures in BENCHMARKS.md.
bench:
	$(GO) test ./internal/agreement -run '^$$' -bench . -benchmem -count 3
	$(GO) test ./internal/ingest -run '^$$' -bench Decode -benchmem -cpu 1 -count 3
	$(GO) test ./internal/journal -run '^$$' -bench . -benchmem -count 3
	$(GO) test ./internal/store/sqlite -run '^$$' -bench . -benchtime 20x -count 3
	$(GO) test ./internal/httpapi -run '^$$' -bench . -benchtime 20x -count 3

check:
	bash .ci/run
