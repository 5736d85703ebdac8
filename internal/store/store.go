// Package store is the contract between truce and the databases that keep
// its journal and projections. Backends live in sub-packages
// (store/sqlite; store/postgres later) and must pass the conformance suite
// in store/storetest.
//
// What every backend must do:
//   - Append writes entries to the journal with contiguous sequence numbers
//     from 1, together with their projections, in one transaction, and
//     returns only once that transaction is durable. Concurrent Appends
//     share commits (group commit). An entry whose idempotency key
//     (journal.Entry.Key) the journal already holds, or that an earlier entry
//     of the same commit holds, is not written: its Outcome is a duplicate
//     naming the first entry's sequence number.
//   - Observations are journaled as their Canonical form (rounded to the
//     held precision), so that what the projections hold is what a rebuild
//     from the journal yields.
//   - A failed Append writes nothing and consumes no sequence number.
//   - Reads filter by marking: a record the viewer may not see
//     (truce.Principal.CanSee) is reported as not found and never listed.
//   - Projections are a function of the journal alone: Rebuild recomputes
//     them from it and yields the same tables.
//   - Translate driver errors: truce.ErrNotFound for a missing record; no
//     driver type escapes the backend.
//   - Keep the evidence log's Merkle tree (internal/evidence) over the
//     journal's canonical entry bytes in the same transactions as the
//     journal: after a commit, TreeSize equals the head and the stored
//     hashes are those tlog computes from the entries' bytes. The tree is a
//     projection: Rebuild recomputes it. Signed checkpoints are kept as
//     they were signed and are never rebuilt.
//   - Be safe for concurrent use. Another process may append to the same
//     database between two Appends (truce token create beside truce serve):
//     sequence numbers and duplicate detection stay right.
package store

import (
	"context"
	"time"

	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/truce"
	"golang.org/x/mod/sumdb/tlog"
)

// Store is a journal with its projections.
type Store interface {
	Journal
	Observations
	Tokens
	Evidence
	// Rebuild drops every projection and recomputes it from the journal.
	Rebuild(ctx context.Context) error
	// Close waits for commits in flight and releases the database.
	Close() error
}

// Journal is the append-only log of entries.
type Journal interface {
	// Append assigns each entry its Seq and Time (overwriting what they
	// hold), writes the new ones durably with their projections, and
	// reports what became of each, in order. Entries must be valid: the
	// caller validated them (internal/ingest).
	Append(ctx context.Context, entries []journal.Entry) ([]Outcome, error)
	// Head returns the sequence number of the last entry, 0 when empty.
	Head(ctx context.Context) (uint64, error)
	// Entries calls fn for each entry with after < Seq, in order, until fn
	// returns an error (returned as is) or limit entries were passed (limit
	// 0: no limit). raw is the entry's canonical encoding; both are valid
	// only during the call.
	Entries(ctx context.Context, after uint64, limit int, fn func(e *journal.Entry, raw []byte) error) error
}

// Evidence is the evidence log's share of the store: the Merkle tree over
// the journal (an evidence.Tree), the journal's raw rows for verifiers, and
// the checkpoints signed over the tree.
type Evidence interface {
	// ReadHashes returns the tree's stored hashes at the given storage
	// indexes (tlog.StoredHashIndex layout), in order; a tlog.HashReader.
	ReadHashes(indexes []int64) ([]tlog.Hash, error)
	// TreeSize returns the number of leaves: the seq of the last entry
	// this process has seen committed (leaf i is the entry with seq i+1).
	TreeSize() int64
	// SyncTree brings the tree up to the entries other processes committed
	// since this one last did, and returns its size.
	SyncTree(ctx context.Context) (int64, error)
	// RawEntries calls fn with the sequence number and stored bytes of
	// each journal row with after < seq, in seq order, without decoding
	// or checking them (verifiers look for tampering themselves), until
	// fn returns an error (returned as is) or limit rows were passed
	// (limit 0: no limit). raw is valid only during the call.
	RawEntries(ctx context.Context, after uint64, limit int, fn func(seq uint64, raw []byte) error) error
	// SaveCheckpoint keeps a signed checkpoint of the tree of size leaves.
	// Saving the same note again does nothing; a different note for a
	// size already signed is truce.ErrConflict.
	SaveCheckpoint(ctx context.Context, size int64, note []byte) error
	// Checkpoints calls fn for each checkpoint kept, in size order.
	Checkpoints(ctx context.Context, fn func(size int64, note []byte) error) error
}

// Outcome is what Append did with one entry.
type Outcome struct {
	// Seq is the entry's sequence number or, for a duplicate, that of the
	// entry that first recorded the same thing.
	Seq       uint64
	Duplicate bool
}

// Observations is the observation projection.
type Observations interface {
	// Observation returns observation id (its entry's Seq) if viewer may
	// see it, else truce.ErrNotFound.
	Observation(ctx context.Context, viewer truce.Principal, id uint64) (ObservationRecord, error)
	// Observations lists, in increasing id order, the observations that
	// match q and that q.Viewer may see. next is the cursor for the
	// following page (0 when there is none). A page may hold fewer than
	// q.Limit records while next is not 0: continue until it is.
	Observations(ctx context.Context, q ObservationQuery) (page []ObservationRecord, next uint64, err error)
}

// ObservationRecord is an observation with what the journal knows of it.
type ObservationRecord struct {
	ID          uint64 // the Seq of its journal entry
	Recorded    time.Time
	Org         truce.OrgID // who recorded it
	Observation truce.Observation
}

// ObservationQuery selects observations. Zero fields do not filter.
type ObservationQuery struct {
	Viewer truce.Principal
	// From and To bound the observation's time: From <= Time < To.
	From, To time.Time
	// BBox, when set, holds the observation's position (Observation.Position).
	BBox       *BBox
	Categories []truce.Category
	Sources    []string
	After      uint64 // cursor: list ids greater than this
	Limit      int    // at most this many records (backends cap it at 1000; 0 means 100)
}

// BBox is a latitude/longitude box, bounds included. MinLon > MaxLon
// crosses the antimeridian.
type BBox struct {
	MinLat, MinLon, MaxLat, MaxLon float64
}

// Contains reports whether the box holds (lat, lon).
func (b *BBox) Contains(lat, lon float64) bool {
	if lat < b.MinLat || lat > b.MaxLat {
		return false
	}
	if b.MinLon <= b.MaxLon {
		return lon >= b.MinLon && lon <= b.MaxLon
	}
	return lon >= b.MinLon || lon <= b.MaxLon
}

// Tokens is the token projection.
type Tokens interface {
	// TokenByHash returns the token whose secret hashes to hash, or
	// truce.ErrNotFound.
	TokenByHash(ctx context.Context, hash [32]byte) (truce.Token, error)
	// Tokens lists every token, oldest first.
	Tokens(ctx context.Context) ([]truce.Token, error)
}

// Verifier is implemented by backends that can prove their projections
// equal a rebuild from the journal without replacing them.
type Verifier interface {
	// VerifyProjections recomputes every projection from the journal aside
	// and returns an error describing the first difference, if any.
	VerifyProjections(ctx context.Context) error
}
