// Package sqlite is the embedded store: truce's journal and its
// projections in one SQLite file (modernc.org/sqlite, no cgo), in WAL mode
// with synchronous=FULL, so that an Append is durable when it returns.
//
// One writer goroutine owns a dedicated connection and commits the
// entries of every Append waiting for it in one transaction (group
// commit); reads use a pool of other connections. Duplicate entries are
// found in an in-memory set of idempotency keys, loaded at open, so that
// no SQL index is probed per record. Another process may append to the
// same file: each commit first catches up with what it wrote.
//
// A DB is safe for concurrent use. README.md describes the schema, the
// pragmas and the migrations.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Options configures a DB.
type Options struct {
	// Now is the clock that dates entries (required). The store rounds its
	// readings to microseconds, in UTC.
	Now func() time.Time
	// Committed, when set, is called after each durable commit with the
	// entries it wrote (not duplicates), in Seq order, from the committing
	// goroutine. It must not block. The slice is the callee's.
	Committed func([]journal.Entry)
	// MaxBatch bounds the entries of one commit (default 20000). The
	// entries of one Append are never split: an Append larger than MaxBatch
	// is committed alone.
	MaxBatch int
	// ReadOnly opens the database to read it as it is, for verifiers: no
	// migration (the schema must be current), no catching up of the
	// evidence log's tree, and Append, Rebuild and SaveCheckpoint fail.
	ReadOnly bool
}

// DefaultMaxBatch is Options.MaxBatch when zero.
const DefaultMaxBatch = 20000

// pragmas are set on every connection of a DB made by Open.
var pragmas = []string{
	"busy_timeout(10000)",
	"journal_mode(WAL)",
	"synchronous(FULL)",
	"temp_store(MEMORY)",
	"cache_size(-65536)", // 64 MiB per connection
}

// DSN returns the data source name Open uses for the file at path: the
// pragmas of every connection (busy_timeout, journal_mode=WAL,
// synchronous=FULL, temp_store=MEMORY, cache_size) in _pragma parameters.
func DSN(path string) string {
	q := url.Values{"_pragma": pragmas}
	return path + "?" + q.Encode()
}

// DB is a journal and its projections in one SQLite database.
type DB struct {
	db    *sql.DB
	owned bool // Close closes db
	opts  Options

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	queue  chan *request
	done   chan struct{} // closed when the writer has stopped

	w        *writer // owned by the writer goroutine
	tree     tree    // the evidence log's stored hashes, mirroring log_hashes
	readOnly bool
}

var (
	_ store.Store    = (*DB)(nil)
	_ store.Verifier = (*DB)(nil)
)

// ErrClosed is returned by calls on a closed DB.
var ErrClosed = errors.New("sqlite: database is closed")

var errReadOnly = errors.New("the database is open read-only")

// Open opens (creating it if missing) the database file at path with the
// pragmas of DSN, brings its schema up to date and loads the in-memory
// state. Close closes the file.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	h, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	d, err := New(ctx, h, opts)
	if err != nil {
		h.Close()
		return nil, err
	}
	d.owned = true
	return d, nil
}

// New makes a DB from an opened handle, whose connections should have the
// pragmas of DSN (New sets synchronous=FULL on the one it writes with). It
// takes one connection of the handle for its writer, brings the schema up
// to date and loads the keys of the journal. Close releases that
// connection, not the handle.
func New(ctx context.Context, h *sql.DB, opts Options) (*DB, error) {
	if opts.Now == nil {
		return nil, errors.New("sqlite: new: Options.Now is required")
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	c, err := h.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: new: %w", err)
	}
	fail := func(op string, err error) (*DB, error) {
		c.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	d := &DB{
		db:       h,
		opts:     opts,
		queue:    make(chan *request, 4096),
		done:     make(chan struct{}),
		readOnly: opts.ReadOnly,
	}
	if opts.ReadOnly {
		if err := checkSchema(ctx, c); err != nil {
			return fail("open read-only", err)
		}
		if err := loadTree(ctx, c, &d.tree); err != nil {
			return fail("open read-only", err)
		}
		d.w = newWriter(c, opts, &d.tree)
		close(d.done)
		return d, nil
	}
	if _, err := c.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
		return fail("set synchronous", err)
	}
	if err := migrate(ctx, c, -1); err != nil {
		return fail("migrate", err)
	}
	w := newWriter(c, opts, &d.tree)
	if err := w.catchUp(ctx); err != nil {
		return fail("load keys", err)
	}
	// The evidence log's tree, computed for entries that lack it (a
	// database from before it, or written by an older program).
	if err := w.inTx(ctx, func() error { return w.syncTree(ctx) }); err != nil {
		return fail("evidence log", err)
	}
	d.w = w
	go d.run()
	return d, nil
}

// Close waits for the Appends handed to the writer, checkpoints the WAL
// into the database file and releases the database.
func (d *DB) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	close(d.queue)
	d.mu.Unlock()
	<-d.done
	ctx := context.Background()
	var errs []error
	if !d.readOnly {
		if _, err := d.w.conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			errs = append(errs, fmt.Errorf("sqlite: close: checkpoint: %w", err))
		}
	}
	d.w.closeStmts()
	if err := d.w.conn.Close(); err != nil {
		errs = append(errs, fmt.Errorf("sqlite: close: %w", err))
	}
	if d.owned {
		if err := d.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("sqlite: close: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Head returns the sequence number of the last entry of the journal, 0
// when it is empty.
func (d *DB) Head(ctx context.Context) (uint64, error) {
	var h int64
	if err := d.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM journal").Scan(&h); err != nil {
		return 0, fmt.Errorf("sqlite: head: %w", err)
	}
	return uint64(h), nil
}

// Entries calls fn for each entry with after < Seq, in order (see
// store.Journal).
func (d *DB) Entries(ctx context.Context, after uint64, limit int, fn func(e *journal.Entry, raw []byte) error) error {
	return d.rawRows(ctx, "entries", after, limit, func(seq uint64, raw []byte) error {
		e, err := journal.Decode(raw)
		if err != nil {
			return fmt.Errorf("sqlite: entries: entry %d: %w", seq, err)
		}
		if e.Seq != seq {
			return fmt.Errorf("sqlite: entries: row %d holds entry %d", seq, e.Seq)
		}
		return fn(&e, raw)
	})
}

// entriesChunk is how many journal rows one query reads.
const entriesChunk = 1000

// rawRows calls fn with each journal row's seq and stored bytes after
// after, in seq order, in chunks of entriesChunk rows, until fn fails or
// limit rows were passed (0: no limit). raw is valid only during the call.
func (d *DB) rawRows(ctx context.Context, op string, after uint64, limit int, fn func(seq uint64, raw []byte) error) error {
	passed := 0
	for {
		n := entriesChunk
		if limit > 0 {
			n = min(n, limit-passed)
		}
		if n <= 0 {
			return nil
		}
		got, err := d.rawChunk(ctx, op, &after, n, fn)
		if err != nil {
			return err
		}
		passed += got
		if got < n {
			return nil
		}
	}
}

func (d *DB) rawChunk(ctx context.Context, op string, after *uint64, n int, fn func(seq uint64, raw []byte) error) (got int, err error) {
	rows, err := d.db.QueryContext(ctx, "SELECT seq, entry FROM journal WHERE seq > ? ORDER BY seq LIMIT ?", int64(*after), n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var raw sql.RawBytes
		if err := rows.Scan(&seq, &raw); err != nil {
			return got, fmt.Errorf("sqlite: %s: %w", op, err)
		}
		if err := fn(uint64(seq), raw); err != nil {
			return got, err
		}
		got++
		*after = uint64(seq)
	}
	if err := rows.Err(); err != nil {
		return got, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return got, nil
}
