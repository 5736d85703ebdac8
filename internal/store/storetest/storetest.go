// Package storetest is the conformance suite of the store contract: every
// backend (store/sqlite, store/postgres) runs it from its tests with Run.
//
// The suite proves what internal/store's package doc asks of a backend:
// contiguous sequence numbers under concurrent Appends, duplicate
// detection within an Append, across Appends and across a reopen, failed
// Appends that write nothing and consume no sequence number, canonical
// journal bytes, every observation filter and cursor pagination, marking
// visibility against a table written by hand, tokens, Rebuild (and
// VerifyProjections for a store.Verifier), and the evidence log's tree
// against the one golang.org/x/mod/sumdb/tlog computes from the raw rows.
//
// Time comes from a fake clock and randomness from a seeded source, so a
// failure repeats.
package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/store"
)

// NewDatabase makes a new, empty database for one test and returns a
// function that opens a store on it, dating entries with now. The suite
// may open the database again after closing the store it had (to prove
// what survives a reopen); it closes every store it opens. The backend
// removes the database with t.Cleanup.
type NewDatabase func(t *testing.T, now func() time.Time) (open func() store.Store)

// Run runs the conformance suite against the backend newDB makes.
func Run(t *testing.T, newDB NewDatabase) {
	s := &suite{newDB: newDB}
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s *suite)
	}{
		{"Empty", testEmpty},
		{"ConcurrentAppends", testConcurrentAppends},
		{"Outcomes", testOutcomes},
		{"Duplicates", testDuplicates},
		{"DuplicatesAcrossReopen", testDuplicatesAcrossReopen},
		{"Entries", testEntries},
		{"CancelledContext", testCancelled},
		{"Unencodable", testUnencodable},
		{"Filters", testFilters},
		{"Limits", testLimits},
		{"Visibility", testVisibility},
		{"Tokens", testTokens},
		{"Rebuild", testRebuild},
		{"Evidence", testEvidence},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, s) })
	}
}

type suite struct {
	newDB NewDatabase
}

// db is one test's database with its clock.
type db struct {
	t     *testing.T
	clock *Clock
	open  func() store.Store
}

func (s *suite) db(t *testing.T) *db {
	c := NewClock()
	return &db{t: t, clock: c, open: s.newDB(t, c.Now)}
}

// store opens a store on d, closed at the end of the test unless the test
// closes it first.
func (d *db) store() store.Store {
	st := d.open()
	var once sync.Once
	d.t.Cleanup(func() {
		once.Do(func() {
			if err := st.Close(); err != nil {
				d.t.Errorf("close: %v", err)
			}
		})
	})
	return &closeOnce{Store: st, once: &once, t: d.t}
}

// closeOnce lets a test close a store early without the cleanup closing it
// again.
type closeOnce struct {
	store.Store
	once *sync.Once
	t    *testing.T
}

func (c *closeOnce) Close() error {
	var err error
	c.once.Do(func() { err = c.Store.Close() })
	return err
}

// Unwrap returns the backend's store, for type assertions.
func (c *closeOnce) Unwrap() store.Store { return c.Store }

// Clock is a fake clock: each reading is 1.5 ms after the previous one,
// starting at Start, in a zone other than UTC and with a sub-microsecond
// part, so that a backend must convert and round.
type Clock struct {
	mu sync.Mutex
	n  int
}

// Start is the first reading of a Clock.
var Start = time.Date(2026, 3, 1, 12, 0, 0, 400, time.FixedZone("EET", 2*3600))

// NewClock returns a clock at Start.
func NewClock() *Clock { return &Clock{} }

// Now returns the next reading.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := Start.Add(time.Duration(c.n) * 1500 * time.Microsecond)
	c.n++
	return t
}

var bg = context.Background()
