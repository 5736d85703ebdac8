package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store"
	"github.com/truce-dev/truce/internal/truce"
)

// request is one Append, or one operation that needs the writer's
// connection to itself (op).
type request struct {
	entries  []journal.Entry // the caller's, copied
	outcomes []store.Outcome
	op       func(ctx context.Context, c *sql.Conn) error
	err      error
	done     chan struct{}
}

// Append writes entries durably with their projections and reports what
// became of each (see store.Journal). It honours ctx until the entries are
// handed to the writer, then waits for the commit. Observations are
// written as truce.Observation.Canonical rounds them. The entries' Seq and
// Time are set to what was written; a duplicate's Seq to that of the
// entry it repeats.
func (d *DB) Append(ctx context.Context, entries []journal.Entry) ([]store.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, nil
	}
	r := &request{entries: append([]journal.Entry(nil), entries...), done: make(chan struct{})}
	if err := d.send(ctx, r); err != nil {
		return nil, err
	}
	<-r.done
	if r.err != nil {
		return nil, r.err
	}
	for i, o := range r.outcomes {
		entries[i].Seq = o.Seq
		if !o.Duplicate {
			entries[i].Time = r.entries[i].Time
		}
	}
	return r.outcomes, nil
}

// exclusive runs op on the writer's connection between two commits.
func (d *DB) exclusive(ctx context.Context, op func(ctx context.Context, c *sql.Conn) error) error {
	r := &request{op: op, done: make(chan struct{})}
	if err := d.send(ctx, r); err != nil {
		return err
	}
	<-r.done
	return r.err
}

func (d *DB) send(ctx context.Context, r *request) error {
	if d.readOnly {
		return errReadOnly
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return ErrClosed
	}
	select {
	case d.queue <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run is the writer goroutine: it commits whatever is queued, in batches,
// until the queue is closed and drained.
func (d *DB) run() {
	defer close(d.done)
	var next *request // taken from the queue, left for the next batch
	var batch []*request
	for {
		r := next
		next = nil
		if r == nil {
			var ok bool
			if r, ok = <-d.queue; !ok {
				return
			}
		}
		if r.op != nil {
			r.err = r.op(context.Background(), d.w.conn)
			close(r.done)
			continue
		}
		batch = append(batch[:0], r)
		n := len(r.entries)
	gather:
		for n < d.opts.MaxBatch {
			select {
			case r, ok := <-d.queue:
				if !ok {
					break gather
				}
				if r.op != nil || n+len(r.entries) > d.opts.MaxBatch {
					next = r
					break gather
				}
				batch = append(batch, r)
				n += len(r.entries)
			default:
				break gather
			}
		}
		d.w.commit(batch)
		for _, r := range batch {
			close(r.done)
		}
		clear(batch)
	}
}

// writer is the state of the writer goroutine.
type writer struct {
	conn *sql.Conn
	opts Options
	head uint64                 // the last seq it knows of
	keys map[journal.Key]uint64 // idempotency key -> seq of the entry that holds it
	ins  *inserter
	tw   treeWriter // the evidence log's tree, grown in each commit

	// reused from commit to commit
	pending map[journal.Key]uint64
	buf     []byte
	written []written
	proj    projection
	jrows   []any
}

type written struct {
	e          *journal.Entry
	key        journal.Key
	hasKey     bool
	start, end int // of its encoding in buf
}

func newWriter(c *sql.Conn, opts Options, t *tree) *writer {
	return &writer{
		conn:    c,
		opts:    opts,
		keys:    map[journal.Key]uint64{},
		ins:     newInserter(c),
		pending: map[journal.Key]uint64{},
		tw:      treeWriter{t: t},
	}
}

func (w *writer) closeStmts() { w.ins.close() }

// catchUp loads the keys of the entries after w.head: at open, all of
// them; before a commit, those another process appended.
func (w *writer) catchUp(ctx context.Context) error {
	rows, err := w.conn.QueryContext(ctx, "SELECT seq, key FROM journal WHERE seq > ? ORDER BY seq", int64(w.head))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var key sql.RawBytes
		if err := rows.Scan(&seq, &key); err != nil {
			return err
		}
		if len(key) == len(journal.Key{}) {
			k := journal.Key(key)
			if _, dup := w.keys[k]; !dup {
				w.keys[k] = uint64(seq)
			}
		}
		w.head = uint64(seq)
	}
	return rows.Err()
}

// commit writes the entries of batch in one transaction and sets each
// request's outcomes or error. A request whose entries cannot be encoded
// fails alone; an error of the transaction fails them all, and changes
// nothing in memory.
func (w *writer) commit(batch []*request) {
	ctx := context.Background()
	failAll := func(err error) {
		for _, r := range batch {
			if r.err == nil {
				r.err = fmt.Errorf("sqlite: append: %w", err)
			}
			r.outcomes = nil
		}
	}
	if _, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		failAll(err)
		return
	}
	committed := false
	defer func() {
		if !committed {
			_, _ = w.conn.ExecContext(ctx, "ROLLBACK")
			w.tw.rollback()
		}
	}()
	var head int64
	if err := w.conn.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM journal").Scan(&head); err != nil {
		failAll(err)
		return
	}
	if uint64(head) != w.head {
		// Another process appended: what it wrote is durable, so the keys
		// are kept even if this commit fails.
		if err := w.catchUp(ctx); err != nil {
			failAll(err)
			return
		}
	}
	if w.tw.size() != int64(w.head) {
		// Another process's leaves, or ours computed in a transaction that
		// did not commit.
		if err := w.syncTree(ctx); err != nil {
			failAll(fmt.Errorf("evidence log: %w", err))
			return
		}
	}
	now := w.opts.Now().UTC().Round(truce.TimeUnit)
	seq := w.head + 1
	clear(w.pending)
	w.buf = w.buf[:0]
	w.written = w.written[:0]
	for _, r := range batch {
		r.outcomes = make([]store.Outcome, len(r.entries))
		mark, seqMark, bufMark := len(w.written), seq, len(w.buf)
		for i := range r.entries {
			e := &r.entries[i]
			k, hasKey := e.Key()
			if hasKey {
				if s, dup := w.keys[k]; dup {
					r.outcomes[i] = store.Outcome{Seq: s, Duplicate: true}
					continue
				}
				if s, dup := w.pending[k]; dup {
					r.outcomes[i] = store.Outcome{Seq: s, Duplicate: true}
					continue
				}
			}
			e.Seq, e.Time = seq, now
			if e.Observation != nil {
				// Held as the journal holds it, so that the projection
				// written now equals one rebuilt from the journal.
				o := e.Observation.Canonical()
				e.Observation = &o
			}
			if e.Token != nil {
				t := *e.Token
				t.Created = now
				e.Token = &t
			}
			start := len(w.buf)
			var err error
			if w.buf, err = journal.Encode(w.buf, e); err != nil {
				r.err = fmt.Errorf("sqlite: append: %w", err)
				for _, x := range w.written[mark:] {
					if x.hasKey {
						delete(w.pending, x.key)
					}
				}
				w.written, seq, w.buf = w.written[:mark], seqMark, w.buf[:bufMark]
				r.outcomes = nil
				break
			}
			if hasKey {
				w.pending[k] = seq
			}
			w.written = append(w.written, written{e: e, key: k, hasKey: hasKey, start: start, end: len(w.buf)})
			r.outcomes[i] = store.Outcome{Seq: seq}
			seq++
		}
	}
	if len(w.written) == 0 {
		return // nothing to write: the deferred rollback ends the transaction
	}
	if err := w.insert(ctx); err != nil {
		failAll(err)
		return
	}
	if _, err := w.conn.ExecContext(ctx, "COMMIT"); err != nil {
		failAll(err)
		return
	}
	committed = true
	if err := w.tw.commit(); err != nil {
		// Cannot happen: the hashes were computed on the tree as it is.
		panic(fmt.Sprintf("sqlite: evidence log out of step after a commit: %v", err))
	}
	for k, s := range w.pending {
		w.keys[k] = s
	}
	w.head = seq - 1
	if w.opts.Committed != nil {
		es := make([]journal.Entry, len(w.written))
		for i, x := range w.written {
			es[i] = *x.e
		}
		w.opts.Committed(es)
	}
}

// insert writes the journal rows and projections of w.written.
func (w *writer) insert(ctx context.Context) error {
	w.proj.reset()
	rows := w.jrows[:0]
	for _, x := range w.written {
		var key any
		if x.hasKey {
			key = x.key[:]
		}
		rows = append(rows, int64(x.e.Seq), string(x.e.Kind), x.e.Time.UnixMicro(), key, w.buf[x.start:x.end])
		w.proj.add(x.e)
	}
	w.jrows = rows
	if err := w.ins.insert(ctx, "journal", journalCols, rows); err != nil {
		return fmt.Errorf("insert journal: %w", err)
	}
	if n := w.tw.size(); n != int64(w.written[0].e.Seq)-1 {
		return fmt.Errorf("evidence log has %d leaves, but the commit starts at entry %d", n, w.written[0].e.Seq)
	}
	raws := make([][]byte, len(w.written))
	for i, x := range w.written {
		raws[i] = w.buf[x.start:x.end]
	}
	if err := w.tw.add(ctx, w.conn, raws); err != nil {
		return fmt.Errorf("evidence log: %w", err)
	}
	return w.proj.insert(ctx, w.ins, "")
}
