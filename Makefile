# Nurture's developer and CI tasks. Postgres comes from scripts/pg: a
# private cluster in a folder of the work tree, never the system's.
#
#   make build   bin/nurture
#   make test    every test against one throwaway cluster (.tmp/pgtest, in
#                /dev/shm where there is room), then
#                the check of the shipped campaigns, then make test-faults
#   make test-faults
#                the fault suite (internal/faults, build tag faults): the built
#                `nurture serve` as one or two processes against a private
#                Postgres cluster it restarts and stops, and the mail catcher,
#                which it refuses, stalls and slows down; about 70 s on two
#                cores, half of it a 30-second SMTP outage
#   make lint    gofmt, go vet, staticcheck (pinned, built into bin/)
#   make run     Nurture with the dev cluster (.data/pg) and the mail catcher;
#                make run ARGS=--fast passes ARGS to `nurture serve`
#   make bench   the benchmarks against a throwaway cluster (BENCHTIME=1s)
#   make clean   remove bin/ and .tmp/ (stops the throwaway cluster); the dev
#                data in .data/ stays: make clean-data removes it

GO ?= go
ARGS ?=
BENCHTIME ?= 1s

.PHONY: build test test-faults lint run bench clean clean-data

build:
	$(GO) build -o bin/nurture ./cmd/nurture

test:
	@GO=$(GO) bash scripts/with-testdb bash scripts/test
	@$(MAKE) --no-print-directory test-faults

# The suite starts its own cluster, since it restarts and stops it.
test-faults: build
	@NURTURE_BIN=$(CURDIR)/bin/nurture $(GO) test -tags faults -count=1 -timeout 6m ./internal/faults/

lint:
	@GO=$(GO) bash scripts/lint

run: build
	@exec bash scripts/run $(ARGS)

bench:
	@bash scripts/with-testdb $(GO) test -count=1 -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 30m ./...

clean:
	-@bash scripts/with-testdb --remove 2>/dev/null
	rm -rf bin .tmp

clean-data:
	-@bash scripts/pg stop .data/pg 2>/dev/null
	rm -rf .data
