package evidence

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// Run with:
//
//	go test -run '^$' -bench . -benchmem ./internal/evidence
//
// Budgets (issue 6): BenchmarkAppend at least 500,000 leaves/s with the
// in-memory store; BenchmarkInclusionProof at most 50 µs per proof at
// 1,000,000 leaves.

// BenchmarkAppend appends batches of 1,000 entries of 400 bytes (about the
// size of a canonical observation entry), hashing included. The log is
// restarted every 2^21 leaves to bound memory, so the tree is up to 21
// levels deep.
func BenchmarkAppend(b *testing.B) {
	const batch = 1000
	es := make([][]byte, batch)
	for i := range es {
		es[i] = make([]byte, 400)
		binary.BigEndian.PutUint64(es[i], uint64(i))
	}
	l := New(NewMemStore())
	leaves := 0
	for b.Loop() {
		if l.Size() >= 1<<21 {
			l = New(NewMemStore())
		}
		if err := l.Append(es); err != nil {
			b.Fatal(err)
		}
		leaves += batch
	}
	b.ReportMetric(float64(leaves)/b.Elapsed().Seconds(), "leaves/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(leaves), "ns/leaf")
}

// BenchmarkInclusionProof proves leaves spread over a 1,000,000-leaf log;
// the time per op includes checking each proof with tlog.CheckRecord.
func BenchmarkInclusionProof(b *testing.B) {
	const N = 1_000_000
	l := New(NewMemStore())
	hs := make([]tlog.Hash, N)
	for i := range hs {
		var x [8]byte
		binary.BigEndian.PutUint64(x[:], uint64(i))
		hs[i] = sha256.Sum256(x[:])
	}
	if err := l.AppendLeafHashes(hs); err != nil {
		b.Fatal(err)
	}
	root, err := l.Root()
	if err != nil {
		b.Fatal(err)
	}
	i := int64(0)
	for b.Loop() {
		i = (i + 7919) % N
		p, err := l.InclusionProof(i, N)
		if err != nil {
			b.Fatal(err)
		}
		if err := tlog.CheckRecord(p, N, root, i, hs[i]); err != nil {
			b.Fatal(err)
		}
	}
}
