package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store"
	"github.com/truce-dev/truce/internal/store/storetest"
	"github.com/truce-dev/truce/internal/truce"
)

var bg = context.Background()

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) func() store.Store {
		path := filepath.Join(t.TempDir(), "truce.db")
		return func() store.Store {
			db, err := Open(bg, path, Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			return db
		}
	})
}

func open(t *testing.T, path string, opts Options) *DB {
	t.Helper()
	if opts.Now == nil {
		opts.Now = storetest.NewClock().Now
	}
	db, err := Open(bg, path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func obs(source, id string, lat, lon float64) journal.Entry {
	return journal.Entry{Kind: journal.KindObservation, Org: "GBR", Observation: &truce.Observation{
		Source: source, SourceID: id, Method: truce.MethodHeard, Category: truce.CategoryImpact, Count: 1,
		Time:        time.Date(2026, 2, 28, 10, 0, 0, 0, time.UTC),
		Location:    &truce.Location{Point: geo.Point{Lat: lat, Lon: lon}, CEP: 100},
		Reliability: 'B', Credibility: 2,
		Marking: truce.Marking{TLP: truce.TLPGreen},
	}}
}

func TestMigrations(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "m.db"), Options{})
	c := db.w.conn // the writer is idle: nothing is appended in this test
	tables := func() string {
		rows, err := c.QueryContext(bg, "SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var names []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			names = append(names, n)
		}
		return strings.Join(names, " ")
	}
	const (
		v1  = "journal observations observations_time schema_migrations tokens"
		all = "journal log_checkpoints log_hashes observations observations_time schema_migrations tokens"
	)
	for _, step := range []struct {
		target  int
		version int
		tables  string
	}{
		{-1, 2, all},
		{0, 0, "schema_migrations"},
		{-1, 2, all},
		{1, 1, v1},
		{2, 2, all},
	} {
		if err := migrate(bg, c, step.target); err != nil {
			t.Fatalf("migrate to %d: %v", step.target, err)
		}
		v, err := schemaVersion(bg, c)
		if err != nil || v != step.version {
			t.Errorf("migrate to %d: version %d, %v, want %d", step.target, v, err, step.version)
		}
		if got := tables(); got != step.tables {
			t.Errorf("migrate to %d: tables %q, want %q", step.target, got, step.tables)
		}
	}
	if err := migrate(bg, c, 7); err == nil {
		t.Errorf("migrate to 7: no error")
	}
}

func TestPragmas(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "p.db"), Options{})
	for _, c := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"},
		{"busy_timeout", "10000"},
	} {
		// Several pooled connections at once, so more than one is checked.
		var conns []*sql.Conn
		for range 3 {
			conn, err := db.db.Conn(bg)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, conn)
			var got string
			if err := conn.QueryRowContext(bg, "PRAGMA "+c.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("pragma %s: got %s, want %s", c.pragma, got, c.want)
			}
		}
		for _, conn := range conns {
			conn.Close()
		}
	}
}

// Two DBs on one file stand for two processes (truce token create beside
// truce serve): sequence numbers and duplicates stay right.
func TestTwoWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "two.db")
	a, b := open(t, path, Options{}), open(t, path, Options{})
	check := func(what string, got []store.Outcome, err error, want ...store.Outcome) {
		t.Helper()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, %v, want %v", what, got, err, want)
		}
	}
	out, err := a.Append(bg, []journal.Entry{obs("s", "1", 48, 37), obs("s", "2", 48, 37)})
	check("a appends 1, 2", out, err, store.Outcome{Seq: 1}, store.Outcome{Seq: 2})
	out, err = b.Append(bg, []journal.Entry{obs("s", "2", 48, 37), obs("s", "3", 48, 37)})
	check("b appends 2, 3", out, err, store.Outcome{Seq: 2, Duplicate: true}, store.Outcome{Seq: 3})
	out, err = a.Append(bg, []journal.Entry{obs("s", "3", 48, 37), obs("s", "4", 48, 37)})
	check("a appends 3, 4", out, err, store.Outcome{Seq: 3, Duplicate: true}, store.Outcome{Seq: 4})
	var wg sync.WaitGroup
	for i := range 20 {
		db := a
		if i%2 == 1 {
			db = b
		}
		wg.Go(func() {
			if _, err := db.Append(bg, []journal.Entry{obs("t", fmt.Sprint(i), 48, 37), obs("t", fmt.Sprint(i+1), 48, 37)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var seqs []uint64
	if err := a.Entries(bg, 0, 0, func(e *journal.Entry, _ []byte) error { seqs = append(seqs, e.Seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seqs) != 4+21 {
		t.Errorf("journal: got %d entries, want 25 (4 + t/0..t/20)", len(seqs))
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("journal seqs: got %v, want 1..%d", seqs, len(seqs))
		}
	}
	// Each process's evidence log covers the other's entries once synced.
	want := independentRoot(t, a)
	for name, db := range map[string]*DB{"a": a, "b": b} {
		n, err := db.SyncTree(bg)
		if err != nil || n != 25 {
			t.Errorf("%s: sync tree: got %d, %v, want 25", name, n, err)
		}
		if got := treeRoot(t, db); got != want {
			t.Errorf("%s: tree root %s, want %s", name, got, want)
		}
	}
}

func TestCommitted(t *testing.T) {
	var mu sync.Mutex
	var got []uint64
	db := open(t, filepath.Join(t.TempDir(), "c.db"), Options{Committed: func(es []journal.Entry) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range es {
			got = append(got, e.Seq)
		}
	}})
	if _, err := db.Append(bg, []journal.Entry{obs("s", "1", 1, 1), obs("s", "1", 1, 1), obs("s", "2", 1, 1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Append(bg, []journal.Entry{obs("s", "2", 1, 1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Append(bg, []journal.Entry{obs("s", "3", 1, 1)}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []uint64{1, 2, 3}; !reflect.DeepEqual(got, want) {
		t.Errorf("committed: got %v, want %v", got, want)
	}
}

// Close waits for the Appends handed to the writer: each either completes
// or reports that the store is closed, and the journal holds exactly the
// completed ones.
func TestCloseDrains(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	db, err := Open(bg, path, Options{Now: storetest.NewClock().Now, MaxBatch: 5})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 40 {
		wg.Go(func() {
			_, err := db.Append(bg, []journal.Entry{obs("s", fmt.Sprint(i), 1, 1), obs("s", fmt.Sprint(i+1000), 1, 1)})
			switch {
			case err == nil:
				mu.Lock()
				ok++
				mu.Unlock()
			case !errors.Is(err, ErrClosed):
				t.Error(err)
			}
		})
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	db = open(t, path, Options{})
	if h, _ := db.Head(bg); h != uint64(2*ok) {
		t.Errorf("head after close: got %d, want %d (2 × %d completed appends)", h, 2*ok, ok)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Logf("wal: %v", err)
	}
}

// Corruption of a projection is found by VerifyProjections, named, and
// mended by Rebuild.
func TestVerifyFindsCorruption(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "v.db"), Options{})
	for i := range 10 {
		if _, err := db.Append(bg, []journal.Entry{obs("s", fmt.Sprint(i), 48+float64(i)/10, 37)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.VerifyProjections(bg); err != nil {
		t.Fatalf("verify: %v", err)
	}
	for _, c := range []struct{ corrupt, want string }{
		{"UPDATE observations SET category = 'mine' WHERE id = 4", "observations: row (id=4, "},
		{"DELETE FROM observations WHERE id = 6", "observations: row (id=6, "},
		{"INSERT INTO tokens VALUES (x'00', 99, 'x', 'GBR', 'nation', 'viewer', '', 0)", "tokens: row (hash=x'00', seq=99"},
		// The second leaf's hash (storage index 1) of the evidence log.
		{"UPDATE log_hashes SET hashes = CAST(substr(hashes, 1, 32) || zeroblob(32) || substr(hashes, 65) AS BLOB) WHERE start = 0", "log_hashes: stored hash 1 (level 0, node 1) is "},
	} {
		if _, err := db.db.ExecContext(bg, c.corrupt); err != nil {
			t.Fatal(err)
		}
		err := db.VerifyProjections(bg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("after %s: verify: got %v, want an error with %q", c.corrupt, err, c.want)
		}
		if err := db.Rebuild(bg); err != nil {
			t.Fatal(err)
		}
		if err := db.VerifyProjections(bg); err != nil {
			t.Errorf("after rebuild: verify: %v", err)
		}
	}
	// A journal entry that does not decode stops a rebuild, which changes
	// nothing.
	if _, err := db.db.ExecContext(bg, "UPDATE journal SET entry = CAST('{}' AS BLOB) WHERE seq = 3"); err != nil {
		t.Fatal(err)
	}
	if err := db.Rebuild(bg); err == nil || !strings.Contains(err.Error(), "entry 3") {
		t.Errorf("rebuild over a broken entry: got %v, want an error naming entry 3", err)
	}
	if _, err := db.Observation(bg, truce.Principal{Org: "GBR", Kind: truce.OrgNation, Role: truce.RoleViewer}, 9); err != nil {
		t.Errorf("after a failed rebuild: observation 9: %v", err)
	}
}

func TestNewNeedsClock(t *testing.T) {
	if _, err := Open(bg, filepath.Join(t.TempDir(), "x.db"), Options{}); err == nil {
		t.Errorf("open without Options.Now: no error")
	}
}

var update = flag.Bool("update", false, "rewrite testdata/v1.db (never once released)")

// testdata/v1.db was written by this package at schema version 1. Every
// later version must open it, migrate it and read it back.
func TestV1Fixture(t *testing.T) {
	const fixture = "testdata/v1.db"
	if *update {
		writeV1(t, fixture)
	}
	tmp := filepath.Join(t.TempDir(), "v1.db")
	copyFile(t, fixture, tmp)
	db := open(t, tmp, Options{})
	v, err := schemaVersion(bg, db.w.conn)
	if n, _ := loadMigrations(); err != nil || v != len(n) {
		t.Errorf("schema version: got %d, %v, want %d", v, err, len(n))
	}
	if h, _ := db.Head(bg); h != 4 {
		t.Errorf("head: got %d, want 4", h)
	}
	var raws []string
	if err := db.Entries(bg, 0, 0, func(e *journal.Entry, raw []byte) error {
		raws = append(raws, string(raw))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(raws) != 4 || !strings.HasPrefix(raws[3], `{"kind":"token","org":"JCCC","seq":4,"time_us":`) {
		t.Errorf("entries: got %q", raws)
	}
	viewer := truce.Principal{Org: "UA", Kind: truce.OrgParty, Role: truce.RoleLiaison}
	page, _, err := db.Observations(bg, store.ObservationQuery{Viewer: viewer})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%d %s %s", len(page), page[0].Observation.SourceID, page[1].Observation.Text); got != "2 1 red, released to UA" {
		t.Errorf("observations seen by UA: got %q", got)
	}
	ts, err := db.Tokens(bg)
	if err != nil || len(ts) != 1 || ts[0].Label != "fixture" {
		t.Errorf("tokens: got %+v, %v", ts, err)
	}
	if err := db.VerifyProjections(bg); err != nil {
		t.Error(err)
	}
	// The evidence log was computed for the entries of before it.
	if n := db.TreeSize(); n != 4 {
		t.Errorf("tree size after upgrade: got %d, want 4", n)
	}
	if got, want := treeRoot(t, db), independentRoot(t, db); got != want {
		t.Errorf("tree root after upgrade: got %s, want %s", got, want)
	}
	out, err := db.Append(bg, []journal.Entry{obs("a", "1", 0, 0), obs("a", "5", 0, 0)})
	if want := []store.Outcome{{Seq: 1, Duplicate: true}, {Seq: 5}}; err != nil || !reflect.DeepEqual(out, want) {
		t.Errorf("append: got %v, %v, want %v", out, err, want)
	}
}

func writeV1(t *testing.T, path string) {
	os.Remove(path)
	clock := storetest.NewClock()
	db, err := Open(bg, path, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	red := obs("a", "3", 48.1, 37.2)
	red.Observation.Marking = truce.Marking{TLP: truce.TLPRed, RelTo: []truce.OrgID{"UA"}}
	red.Observation.Text = "red, released to UA"
	amber := obs("a", "2", 48.1, 37.2)
	amber.Observation.Marking.TLP = truce.TLPAmber
	var hash [32]byte
	hash[0] = 1
	tok := &truce.Token{ID: "010000000000", Hash: hash, Org: "GBR", Kind: truce.OrgNation, Role: truce.RoleViewer, Label: "fixture"}
	for _, es := range [][]journal.Entry{
		{obs("a", "1", 48, 37), amber},
		{red, {Kind: journal.KindToken, Org: "JCCC", Token: tok}},
	} {
		if _, err := db.Append(bg, es); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	r, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, r); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
