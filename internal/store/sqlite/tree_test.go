package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store/storetest"
	"golang.org/x/mod/sumdb/tlog"
)

// treeRoot is the root of db's evidence log as db keeps it.
func treeRoot(t *testing.T, db *DB) tlog.Hash {
	t.Helper()
	h, err := tlog.TreeHash(db.TreeSize(), db)
	if err != nil {
		t.Fatalf("tree hash: %v", err)
	}
	return h
}

// independentRoot is the root tlog computes from the journal's raw rows
// alone, with none of this package's tree code.
func independentRoot(t *testing.T, db *DB) tlog.Hash {
	t.Helper()
	_, root, _ := storetest.IndependentTree(t, db)
	return root
}

// The tree grows in every commit, survives a reopen, and is what tlog
// computes from the journal's bytes; Rebuild recomputes it.
func TestTreeFollowsJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	db := open(t, path, Options{MaxBatch: 7})
	for i := range 40 {
		es := make([]journal.Entry, 1+i%5)
		for j := range es {
			es[j] = obs("s", fmt.Sprint(i, "-", j), 48, 37)
		}
		if _, err := db.Append(bg, es); err != nil {
			t.Fatal(err)
		}
		h, _ := db.Head(bg)
		if db.TreeSize() != int64(h) {
			t.Fatalf("after append %d: tree size %d, head %d", i, db.TreeSize(), h)
		}
	}
	want := independentRoot(t, db)
	if got := treeRoot(t, db); got != want {
		t.Fatalf("root %s, want %s", got, want)
	}
	for i := int64(0); i < db.TreeSize(); i += 17 {
		p, err := tlog.ProveRecord(db.TreeSize(), i, db)
		if err != nil {
			t.Fatal(err)
		}
		var raw []byte
		db.RawEntries(bg, uint64(i), 1, func(_ uint64, r []byte) error { raw = append(raw, r...); return nil })
		if err := tlog.CheckRecord(p, db.TreeSize(), want, i, tlog.RecordHash(raw)); err != nil {
			t.Errorf("leaf %d: %v", i, err)
		}
	}
	if err := db.Rebuild(bg); err != nil {
		t.Fatal(err)
	}
	if got := treeRoot(t, db); got != want {
		t.Errorf("after rebuild: root %s, want %s", got, want)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open(t, path, Options{})
	if got := treeRoot(t, db); got != want {
		t.Errorf("after reopen: root %s, want %s", got, want)
	}
	// Read-only, as a verifier opens it: the same tree, and no writes.
	ro := open(t, path, Options{ReadOnly: true})
	if got := treeRoot(t, ro); got != want {
		t.Errorf("read-only: root %s, want %s", got, want)
	}
	if _, err := ro.Append(bg, []journal.Entry{obs("s", "new", 48, 37)}); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("read-only append: got %v, want a read-only error", err)
	}
	if err := ro.SaveCheckpoint(bg, 1, []byte("x")); err == nil {
		t.Errorf("read-only save checkpoint: no error")
	}
}

// A journal cut short behind the store's back is refused at open: the
// evidence log has more leaves than the journal has entries.
func TestTruncatedJournalRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	db := open(t, path, Options{})
	for i := range 5 {
		if _, err := db.Append(bg, []journal.Entry{obs("s", fmt.Sprint(i), 48, 37)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.db.ExecContext(bg, "DELETE FROM journal WHERE seq > 3"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := Open(bg, path, Options{Now: storetest.NewClock().Now})
	if err == nil || !strings.Contains(err.Error(), "the evidence log has 5 leaves but the journal ends at entry 3") {
		t.Errorf("open: got %v, want the truncation named", err)
	}
}

// A read-only open does not migrate: an old database is refused with what
// to do.
func TestReadOnlyNeedsCurrentSchema(t *testing.T) {
	tmp := filepath.Join(t.TempDir(), "v1.db")
	copyFile(t, "testdata/v1.db", tmp)
	before, _ := os.ReadFile(tmp)
	_, err := Open(bg, tmp, Options{Now: storetest.NewClock().Now, ReadOnly: true})
	if err == nil || !strings.Contains(err.Error(), "schema version 1") {
		t.Errorf("read-only open of v1: got %v, want a schema error", err)
	}
	if after, _ := os.ReadFile(tmp); string(after) != string(before) {
		t.Errorf("read-only open changed the file")
	}
}

func TestCheckpointsKept(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "c.db"), Options{})
	for _, c := range []struct {
		size int64
		note string
		ok   bool
	}{{3, "a", true}, {1, "b", true}, {3, "a", true}, {3, "c", false}} {
		err := db.SaveCheckpoint(bg, c.size, []byte(c.note))
		if (err == nil) != c.ok {
			t.Errorf("save %d %q: got %v, want ok=%v", c.size, c.note, err, c.ok)
		}
	}
	var got []string
	db.Checkpoints(bg, func(size int64, note []byte) error { got = append(got, fmt.Sprint(size, string(note))); return nil })
	if strings.Join(got, ",") != "1b,3a" {
		t.Errorf("checkpoints: got %v, want [1b 3a]", got)
	}
}

// Leaves computed in a commit that wrote nothing (all duplicates) are
// computed again by the next: the tree never lags the journal for good.
func TestTreeCatchesUpAfterEmptyCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	a, b := open(t, path, Options{}), open(t, path, Options{})
	if _, err := a.Append(bg, []journal.Entry{obs("s", "1", 48, 37)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(bg, []journal.Entry{obs("s", "2", 48, 37), obs("s", "3", 48, 37)}); err != nil {
		t.Fatal(err)
	}
	// b's tree rows lost, as if written by a program without the tree.
	if _, err := b.db.ExecContext(bg, "DELETE FROM log_hashes WHERE start > 0"); err != nil {
		t.Fatal(err)
	}
	if out, err := a.Append(bg, []journal.Entry{obs("s", "2", 48, 37)}); err != nil || !out[0].Duplicate {
		t.Fatalf("duplicate append: %v, %v", out, err)
	}
	if _, err := a.Append(bg, []journal.Entry{obs("s", "4", 48, 37)}); err != nil {
		t.Fatalf("append after an empty commit: %v", err)
	}
	if a.TreeSize() != 4 {
		t.Errorf("tree size %d, want 4", a.TreeSize())
	}
	if got, want := treeRoot(t, a), independentRoot(t, a); got != want {
		t.Errorf("root %s, want %s", got, want)
	}
}
