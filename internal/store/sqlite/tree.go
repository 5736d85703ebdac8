package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/truce-dev/truce/internal/evidence"
	"github.com/truce-dev/truce/internal/truce"
	"golang.org/x/mod/sumdb/tlog"
)

// tree is the evidence log's Merkle tree in memory: the stored hashes that
// log_hashes holds, in tlog's storage layout. The writer appends to it
// after each commit; readers (proofs, tiles, checkpoints) read a prefix
// that never changes.
type tree = evidence.MemStore

var _ evidence.Tree = (*DB)(nil)

// ReadHashes returns the tree's stored hashes at indexes (store.Evidence).
func (d *DB) ReadHashes(indexes []int64) ([]tlog.Hash, error) { return d.tree.ReadHashes(indexes) }

// TreeSize returns the number of leaves of the tree (store.Evidence).
func (d *DB) TreeSize() int64 { return d.tree.TreeSize() }

// SyncTree catches the tree up with what other processes committed
// (store.Evidence).
func (d *DB) SyncTree(ctx context.Context) (int64, error) {
	if d.readOnly {
		return d.TreeSize(), nil
	}
	err := d.exclusive(ctx, func(ctx context.Context, c *sql.Conn) error {
		return d.w.inTx(ctx, func() error {
			if err := d.w.catchUp(ctx); err != nil {
				return err
			}
			return d.w.syncTree(ctx)
		})
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: sync tree: %w", err)
	}
	return d.TreeSize(), nil
}

// hashCount returns how many stored hashes t holds.
func hashCount(t *tree) int64 { return tlog.StoredHashCount(t.TreeSize()) }

// hashRange returns t's stored hashes start..end-1.
func hashRange(t *tree, start, end int64) ([]tlog.Hash, error) {
	ix := make([]int64, 0, max(end-start, 0))
	for i := start; i < end; i++ {
		ix = append(ix, i)
	}
	return t.ReadHashes(ix)
}

// loadTree reads the rows of log_hashes from storage index from on into t.
func loadTree(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, t *tree) error {
	from := hashCount(t)
	// A row may straddle what t holds (rows rewritten by a rebuild in
	// another process are cut differently): its known part must agree.
	rows, err := q.QueryContext(ctx, "SELECT start, hashes FROM log_hashes WHERE start + length(hashes)/32 > ? ORDER BY start", from)
	if err != nil {
		return fmt.Errorf("load tree: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var start int64
		var blob sql.RawBytes
		if err := rows.Scan(&start, &blob); err != nil {
			return fmt.Errorf("load tree: %w", err)
		}
		if len(blob)%tlog.HashSize != 0 || len(blob) == 0 {
			return fmt.Errorf("load tree: log_hashes row %d holds %d bytes, not a whole number of hashes", start, len(blob))
		}
		hs := make([]tlog.Hash, len(blob)/tlog.HashSize)
		for i := range hs {
			copy(hs[i][:], blob[i*tlog.HashSize:])
		}
		if start < from {
			known, err := hashRange(t, start, from)
			if err != nil {
				return fmt.Errorf("load tree: %w", err)
			}
			for i, h := range known {
				if hs[i] != h {
					return fmt.Errorf("load tree: log_hashes row %d: stored hash %d is not the one loaded before: the tree was rewritten", start, start+int64(i))
				}
			}
			hs, start = hs[from-start:], from
		}
		if err := t.WriteHashes(start, hs); err != nil {
			return fmt.Errorf("load tree: log_hashes row %d: %w", start, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load tree: %w", err)
	}
	return nil
}

// treeWriter computes the tree's new stored hashes within the writer's
// transaction: pending holds those computed since the transaction began,
// which reach d.tree only once it commits.
type treeWriter struct {
	t       *tree
	pending []tlog.Hash
	leaves  []tlog.Hash // scratch
}

// ReadHashes reads from the tree, then from pending.
func (tw *treeWriter) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	n := hashCount(tw.t)
	var old []int64
	for _, x := range indexes {
		if x < n {
			old = append(old, x)
		}
	}
	got, err := tw.t.ReadHashes(old)
	if err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		switch {
		case x < n:
			out[i], got = got[0], got[1:]
		case x-n < int64(len(tw.pending)):
			out[i] = tw.pending[x-n]
		default:
			return nil, fmt.Errorf("stored hash %d not written", x)
		}
	}
	return out, nil
}

// size returns the number of leaves with the pending hashes.
func (tw *treeWriter) size() int64 {
	s, _ := evidence.SizeForHashCount(hashCount(tw.t) + int64(len(tw.pending)))
	return s
}

// add computes the stored hashes of entries with the given canonical
// bytes, the next leaves of the tree, and inserts them as one row of
// log_hashes.
func (tw *treeWriter) add(ctx context.Context, c *sql.Conn, raws [][]byte) error {
	if len(raws) == 0 {
		return nil
	}
	tw.leaves = tw.leaves[:0]
	for _, r := range raws {
		tw.leaves = append(tw.leaves, tlog.RecordHash(r))
	}
	n := tw.size()
	hs, err := evidence.StoredHashes(n, tw.leaves, tw)
	if err != nil {
		return err
	}
	start := tlog.StoredHashIndex(0, n)
	blob := make([]byte, 0, len(hs)*tlog.HashSize)
	for _, h := range hs {
		blob = append(blob, h[:]...)
	}
	if _, err := c.ExecContext(ctx, "INSERT INTO log_hashes (start, hashes) VALUES (?, ?)", start, blob); err != nil {
		return fmt.Errorf("insert log_hashes: %w", err)
	}
	tw.pending = append(tw.pending, hs...)
	return nil
}

// commit hands the pending hashes to the tree, after the transaction
// committed.
func (tw *treeWriter) commit() error {
	if len(tw.pending) == 0 {
		return nil
	}
	err := tw.t.WriteHashes(hashCount(tw.t), tw.pending)
	tw.pending = tw.pending[:0]
	return err
}

func (tw *treeWriter) rollback() { tw.pending = tw.pending[:0] }

// backfillChunk is how many journal entries one log_hashes row covers when
// the tree is computed from the journal (at open after an upgrade, after
// another process's commits that lack it, in Rebuild).
const backfillChunk = 65536

// extend computes the leaves for the journal entries after the tree's size
// up to head, reading them on c (in the current transaction).
func (tw *treeWriter) extend(ctx context.Context, c *sql.Conn, head uint64) error {
	for {
		n := tw.size()
		if uint64(n) > head {
			return fmt.Errorf("the evidence log has %d leaves but the journal ends at entry %d: entries were removed from the journal", n, head)
		}
		if uint64(n) == head {
			return nil
		}
		raws, err := rawChunk(ctx, c, n, int64(head))
		if err != nil {
			return err
		}
		if err := tw.add(ctx, c, raws); err != nil {
			return err
		}
	}
}

// rawChunk reads the stored bytes of up to backfillChunk journal entries
// after the entry with seq after, up to head, checking that none is
// missing.
func rawChunk(ctx context.Context, c *sql.Conn, after, head int64) ([][]byte, error) {
	rows, err := c.QueryContext(ctx, "SELECT seq, entry FROM journal WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?", after, head, backfillChunk)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var raws [][]byte
	for next := after + 1; rows.Next(); next++ {
		var seq int64
		var raw []byte
		if err := rows.Scan(&seq, &raw); err != nil {
			return nil, err
		}
		if seq != next {
			return nil, fmt.Errorf("journal entry %d is missing (the row after %d is %d)", next, next-1, seq)
		}
		raws = append(raws, raw)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(raws) == 0 && after < head {
		return nil, fmt.Errorf("journal entry %d is missing (head is %d)", after+1, head)
	}
	return raws, nil
}

// syncTree loads the rows of log_hashes other processes wrote, then
// computes any leaves still missing up to w.head, in the current
// transaction; they reach the tree when it commits (treeWriter.commit).
func (w *writer) syncTree(ctx context.Context) error {
	if w.tw.size() == int64(w.head) && len(w.tw.pending) == 0 {
		// Nothing new, unless another process wrote rows: cheap to ask.
		var n int64
		if err := w.conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM log_hashes WHERE start >= ?", hashCount(w.tw.t)).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
	if len(w.tw.pending) == 0 {
		if err := loadTree(ctx, w.conn, w.tw.t); err != nil {
			return err
		}
	}
	return w.tw.extend(ctx, w.conn, w.head)
}

// inTx runs fn in an immediate transaction on the writer's connection and
// commits, then hands the tree the hashes computed in it. On an error it
// rolls back and the tree is unchanged.
func (w *writer) inTx(ctx context.Context, fn func() error) (err error) {
	if _, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	err = fn()
	if err == nil {
		_, err = w.conn.ExecContext(ctx, "COMMIT")
	}
	if err != nil {
		_, _ = w.conn.ExecContext(context.Background(), "ROLLBACK")
		w.tw.rollback()
		return err
	}
	return w.tw.commit()
}

// SaveCheckpoint keeps a signed checkpoint (store.Evidence).
func (d *DB) SaveCheckpoint(ctx context.Context, size int64, note []byte) error {
	if d.readOnly {
		return fmt.Errorf("sqlite: save checkpoint: %w", errReadOnly)
	}
	var old []byte
	err := d.db.QueryRowContext(ctx, "SELECT note FROM log_checkpoints WHERE size = ?", size).Scan(&old)
	switch {
	case err == nil:
		if string(old) == string(note) {
			return nil
		}
		return fmt.Errorf("sqlite: save checkpoint: a different checkpoint of size %d is kept: %w", size, truce.ErrConflict)
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("sqlite: save checkpoint: %w", err)
	}
	_, err = d.db.ExecContext(ctx, "INSERT INTO log_checkpoints (size, signed_us, note) VALUES (?, ?, ?) ON CONFLICT (size) DO NOTHING",
		size, d.opts.Now().UnixMicro(), note)
	if err != nil {
		return fmt.Errorf("sqlite: save checkpoint: %w", err)
	}
	// Another writer may have saved one of this size in between.
	if err := d.db.QueryRowContext(ctx, "SELECT note FROM log_checkpoints WHERE size = ?", size).Scan(&old); err != nil {
		return fmt.Errorf("sqlite: save checkpoint: %w", err)
	}
	if string(old) != string(note) {
		return fmt.Errorf("sqlite: save checkpoint: a different checkpoint of size %d is kept: %w", size, truce.ErrConflict)
	}
	return nil
}

// Checkpoints calls fn for each kept checkpoint in size order
// (store.Evidence).
func (d *DB) Checkpoints(ctx context.Context, fn func(size int64, note []byte) error) error {
	rows, err := d.db.QueryContext(ctx, "SELECT size, note FROM log_checkpoints ORDER BY size")
	if err != nil {
		return fmt.Errorf("sqlite: checkpoints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var size int64
		var note []byte
		if err := rows.Scan(&size, &note); err != nil {
			return fmt.Errorf("sqlite: checkpoints: %w", err)
		}
		if err := fn(size, note); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: checkpoints: %w", err)
	}
	return nil
}

// RawEntries calls fn with each journal row's seq and stored bytes, in seq
// order, without decoding them (store.Evidence).
func (d *DB) RawEntries(ctx context.Context, after uint64, limit int, fn func(seq uint64, raw []byte) error) error {
	return d.rawRows(ctx, "raw entries", after, limit, fn)
}
