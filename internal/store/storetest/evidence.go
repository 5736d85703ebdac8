package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store"
	"github.com/truce-dev/truce/internal/truce"
	"golang.org/x/mod/sumdb/tlog"
)

// IndependentTree computes, with tlog alone, the stored hashes and root of
// the tree over the journal's raw rows, checking they run 1..n.
func IndependentTree(t *testing.T, st store.Store) (n int64, root tlog.Hash, hashes []tlog.Hash) {
	t.Helper()
	r := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = hashes[x]
		}
		return out, nil
	})
	err := st.RawEntries(bg, 0, 0, func(seq uint64, raw []byte) error {
		if seq != uint64(n+1) {
			return fmt.Errorf("raw entries: row %d after %d", seq, n)
		}
		hs, err := tlog.StoredHashes(n, raw, r)
		if err != nil {
			return err
		}
		hashes = append(hashes, hs...)
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	root, err = tlog.TreeHash(n, r)
	if err != nil {
		t.Fatal(err)
	}
	return n, root, hashes
}

// checkTree checks the store's tree against the independent one: same
// size as the head, every stored hash equal.
func checkTree(t *testing.T, st store.Store, what string) tlog.Hash {
	t.Helper()
	n, root, want := IndependentTree(t, st)
	if h := head(t, st); uint64(n) != h {
		t.Fatalf("%s: raw entries %d, head %d", what, n, h)
	}
	if got := st.TreeSize(); got != n {
		t.Fatalf("%s: tree size %d, want %d (the head)", what, got, n)
	}
	ix := make([]int64, len(want))
	for i := range ix {
		ix[i] = int64(i)
	}
	got, err := st.ReadHashes(ix)
	if err != nil {
		t.Fatalf("%s: read hashes: %v", what, err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: stored hash %d is %s, tlog computes %s", what, i, got[i], want[i])
		}
	}
	if _, err := st.ReadHashes([]int64{int64(len(want))}); err == nil {
		t.Errorf("%s: read of stored hash %d beyond the tree: no error", what, len(want))
	}
	return root
}

// The evidence log's tree follows the journal through concurrent Appends,
// duplicates, a failed Append, a reopen and a Rebuild; raw entries are the
// canonical bytes; checkpoints are kept as signed.
func testEvidence(t *testing.T, s *suite) {
	d := s.db(t)
	st := d.store()
	if st.TreeSize() != 0 {
		t.Fatalf("empty store: tree size %d", st.TreeSize())
	}
	checkTree(t, st, "empty")
	g := newGen(7)
	var batches [4][10][]journal.Entry
	for w := range batches {
		for i := range batches[w] {
			var es []journal.Entry
			for range 1 + (w+i)%4 {
				es = append(es, entry("JCCC", g.observation(genSources[(w+i)%len(genSources)])))
			}
			if i%3 == 0 {
				es = append(es, es[0]) // a duplicate in the same commit
			}
			batches[w][i] = es
		}
	}
	var wg sync.WaitGroup
	for w := range batches {
		wg.Go(func() {
			for _, es := range batches[w] {
				if _, err := st.Append(bg, es); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	root := checkTree(t, st, "after concurrent appends")

	// Raw entries are the canonical encoding of the decoded entries.
	var raws [][]byte
	if err := st.RawEntries(bg, 2, 3, func(seq uint64, raw []byte) error {
		raws = append(raws, append([]byte(nil), raw...))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(raws) != 3 {
		t.Fatalf("raw entries after 2, limit 3: got %d", len(raws))
	}
	i := 0
	if err := st.Entries(bg, 2, 3, func(e *journal.Entry, raw []byte) error {
		if string(raw) != string(raws[i]) {
			return fmt.Errorf("entry %d: raw %q, entries %q", e.Seq, raws[i], raw)
		}
		i++
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Checkpoints: kept in size order; the same note again is fine; a
	// different note of a size already kept is a conflict.
	for _, c := range []struct {
		size int64
		note string
		err  error
	}{{5, "five", nil}, {2, "two", nil}, {5, "five", nil}, {5, "forked", truce.ErrConflict}} {
		err := st.SaveCheckpoint(bg, c.size, []byte(c.note))
		if c.err == nil && err != nil || c.err != nil && !errors.Is(err, c.err) {
			t.Errorf("save checkpoint %d %q: got %v, want %v", c.size, c.note, err, c.err)
		}
	}
	var kept []string
	if err := st.Checkpoints(bg, func(size int64, note []byte) error {
		kept = append(kept, fmt.Sprint(size, ":", string(note)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(kept) != "[2:two 5:five]" {
		t.Errorf("checkpoints: got %v, want [2:two 5:five]", kept)
	}

	// A reopen keeps the tree and the checkpoints; a rebuild recomputes
	// the same tree.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = d.store()
	if got := checkTree(t, st, "after reopen"); got != root {
		t.Errorf("after reopen: root %s, want %s", got, root)
	}
	if err := st.Rebuild(bg); err != nil {
		t.Fatal(err)
	}
	if got := checkTree(t, st, "after rebuild"); got != root {
		t.Errorf("after rebuild: root %s, want %s", got, root)
	}
	kept = kept[:0]
	st.Checkpoints(bg, func(size int64, note []byte) error { kept = append(kept, string(note)); return nil })
	if len(kept) != 2 {
		t.Errorf("checkpoints after reopen and rebuild: got %q", kept)
	}
	mustAppend(t, st, entry("JCCC", g.observation(genSources[0])))
	checkTree(t, st, "after an append to the reopened store")
}
