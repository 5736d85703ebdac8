package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/truce-dev/truce/internal/evidence"
	"github.com/truce-dev/truce/internal/journal"
	"golang.org/x/mod/sumdb/tlog"
)

// replayChunk is how many journal rows replay decodes per batch.
const replayChunk = 4096

// Rebuild clears every projection and recomputes it from the journal, in
// one transaction taken between two commits.
func (d *DB) Rebuild(ctx context.Context) error {
	err := d.exclusive(ctx, func(_ context.Context, c *sql.Conn) (err error) {
		if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return err
		}
		defer func() {
			if err == nil {
				_, err = c.ExecContext(ctx, "COMMIT")
			}
			if err != nil {
				_, _ = c.ExecContext(context.Background(), "ROLLBACK")
				// The tree as the database still holds it.
				d.w.tw.rollback()
				d.tree.Reset()
				if lerr := loadTree(context.Background(), c, &d.tree); lerr != nil {
					err = errors.Join(err, lerr)
				}
				return
			}
			err = d.w.tw.commit()
		}()
		// The secondary indexes are dropped and made again after: that is
		// faster than keeping them up to date row by row.
		indexes, err := secondaryIndexes(ctx, c)
		if err != nil {
			return err
		}
		for name := range indexes {
			if _, err := c.ExecContext(ctx, "DROP INDEX "+name); err != nil {
				return err
			}
		}
		if _, err := c.ExecContext(ctx, "DELETE FROM observations; DELETE FROM tokens"); err != nil {
			return err
		}
		head, err := maxSeq(ctx, c)
		if err != nil {
			return err
		}
		ins := newInserter(c)
		defer ins.close()
		if err := d.replay(ctx, head, func(p *projection) error { return p.insert(ctx, ins, "") }); err != nil {
			return err
		}
		for _, ddl := range indexes {
			if _, err := c.ExecContext(ctx, ddl); err != nil {
				return err
			}
		}
		// The evidence log's tree, from the journal's bytes.
		if _, err := c.ExecContext(ctx, "DELETE FROM log_hashes"); err != nil {
			return err
		}
		d.tree.Reset()
		return d.w.tw.extend(ctx, c, head)
	})
	if err != nil {
		return fmt.Errorf("sqlite: rebuild: %w", err)
	}
	return nil
}

// secondaryIndexes returns the statements that made the indexes of the
// projection tables, by index name.
func secondaryIndexes(ctx context.Context, c *sql.Conn) (map[string]string, error) {
	rows, err := c.QueryContext(ctx, "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('observations', 'tokens')")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var name, ddl string
		if err := rows.Scan(&name, &ddl); err != nil {
			return nil, err
		}
		m[name] = ddl
	}
	return m, rows.Err()
}

func maxSeq(ctx context.Context, c *sql.Conn) (uint64, error) {
	var h int64
	err := c.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM journal").Scan(&h)
	return uint64(h), err
}

// replay decodes the journal's entries up to head, reading them on a
// connection of the pool (the entries up to head are committed and never
// change), and hands their projection rows to apply, in batches, in Seq
// order. Reading, decoding (on replayWorkers goroutines) and apply overlap.
func (d *DB) replay(ctx context.Context, head uint64, apply func(*projection) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *chunk, replayWorkers)
	order := make(chan *chunk, replayWorkers+2)
	var wg sync.WaitGroup
	for range replayWorkers {
		wg.Go(func() {
			for c := range work {
				c.decode()
			}
		})
	}
	readErr := make(chan error, 1)
	go func() {
		defer func() { close(work); close(order) }()
		readErr <- d.readJournal(ctx, head, work, order)
	}()
	var err error
	for c := range order {
		<-c.done
		if err == nil {
			if err = c.err; err == nil {
				err = apply(&c.p)
			}
			if err != nil {
				cancel()
			}
		}
	}
	wg.Wait()
	if rerr := <-readErr; err == nil {
		err = rerr
	}
	return err
}

// replayWorkers is how many goroutines decode journal entries in replay.
const replayWorkers = 2

// chunk is a run of journal rows on their way to apply.
type chunk struct {
	seqs []int64
	raws [][]byte
	p    projection
	err  error
	done chan struct{}
}

func (c *chunk) decode() {
	defer close(c.done)
	for i, raw := range c.raws {
		e, err := journal.Decode(raw)
		if err == nil && e.Seq != uint64(c.seqs[i]) {
			err = fmt.Errorf("row %d holds entry %d", c.seqs[i], e.Seq)
		}
		if err != nil {
			c.err = fmt.Errorf("entry %d: %w", c.seqs[i], err)
			return
		}
		c.p.add(&e)
	}
}

// readJournal reads the rows up to head in chunks, each sent to work (to
// decode) and to order (to apply in turn).
func (d *DB) readJournal(ctx context.Context, head uint64, work, order chan<- *chunk) error {
	var after uint64
	for after < head {
		c := &chunk{done: make(chan struct{})}
		rows, err := d.db.QueryContext(ctx, "SELECT seq, entry FROM journal WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?", int64(after), int64(head), replayChunk)
		if err != nil {
			return err
		}
		for rows.Next() {
			var seq int64
			var raw []byte
			if err := rows.Scan(&seq, &raw); err != nil {
				rows.Close()
				return err
			}
			c.seqs, c.raws = append(c.seqs, seq), append(c.raws, raw)
			after = uint64(seq)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(c.seqs) == 0 {
			return fmt.Errorf("journal ends at %d, before its head %d", after, head)
		}
		select {
		case order <- c:
		case <-ctx.Done():
			return ctx.Err()
		}
		work <- c // a worker is always there to take it
	}
	return nil
}

// projectionTables are the tables VerifyProjections compares, with the
// column that orders their rows.
var projectionTables = []struct{ name, order string }{
	{"observations", "id"},
	{"tokens", "seq"},
}

// VerifyProjections rebuilds every projection from the journal into
// temporary tables, on a snapshot of the database, and compares them with
// the live ones. It returns an error naming the table and the first row
// that differs. Appends go on meanwhile.
func (d *DB) VerifyProjections(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("sqlite: verify projections: %w", err)
		}
	}()
	c, err := d.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "BEGIN"); err != nil {
		return err
	}
	defer c.ExecContext(context.Background(), "ROLLBACK")
	head, err := maxSeq(ctx, c) // the snapshot starts here
	if err != nil {
		return err
	}
	for _, t := range projectionTables {
		var ddl string
		if err := c.QueryRowContext(ctx, "SELECT sql FROM main.sqlite_schema WHERE type = 'table' AND name = ?", t.name).Scan(&ddl); err != nil {
			return fmt.Errorf("schema of %s: %w", t.name, err)
		}
		prefix := "CREATE TABLE " + t.name + " "
		if !strings.HasPrefix(ddl, prefix) {
			return fmt.Errorf("schema of %s: unexpected %q", t.name, ddl)
		}
		if _, err := c.ExecContext(ctx, "DROP TABLE IF EXISTS temp.verify_"+t.name); err != nil {
			return err
		}
		if _, err := c.ExecContext(ctx, "CREATE TEMP TABLE verify_"+t.name+" "+ddl[len(prefix):]); err != nil {
			return err
		}
	}
	ins := newInserter(c)
	defer ins.close()
	if err := d.replay(ctx, head, func(p *projection) error { return p.insert(ctx, ins, "temp.verify_") }); err != nil {
		return err
	}
	for _, t := range projectionTables {
		for _, dir := range []struct{ a, b, what string }{
			{"main." + t.name, "temp.verify_" + t.name, "is not in the rebuild"},
			{"temp.verify_" + t.name, "main." + t.name, "of the rebuild is not in the table"},
		} {
			row, err := firstRow(ctx, c, fmt.Sprintf("SELECT * FROM (SELECT * FROM %s EXCEPT SELECT * FROM %s) ORDER BY %s LIMIT 1", dir.a, dir.b, t.order))
			if err != nil {
				return err
			}
			if row != "" {
				return fmt.Errorf("%s: row %s %s", t.name, row, dir.what)
			}
		}
	}
	for _, t := range projectionTables {
		if _, err := c.ExecContext(ctx, "DROP TABLE temp.verify_"+t.name); err != nil {
			return err
		}
	}
	return verifyTree(ctx, c, head)
}

// verifyTree recomputes the evidence log's tree from the journal's entries
// up to head, on c's snapshot, and compares it with log_hashes.
func verifyTree(ctx context.Context, c *sql.Conn, head uint64) error {
	var stored tree
	if err := loadTree(ctx, c, &stored); err != nil {
		return fmt.Errorf("log_hashes: %w", err)
	}
	if stored.TreeSize() != int64(head) {
		return fmt.Errorf("log_hashes: the tree has %d leaves, the journal %d entries", stored.TreeSize(), head)
	}
	ms := evidence.NewMemStore()
	l := evidence.New(ms)
	for after := int64(0); after < int64(head); {
		raws, err := rawChunk(ctx, c, after, int64(head))
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		after += int64(len(raws))
		if err := l.Append(raws); err != nil {
			return err
		}
	}
	n := hashCount(&stored)
	have, err := hashRange(&stored, 0, n)
	if err != nil {
		return err
	}
	want, err := hashRange(ms, 0, n)
	if err != nil {
		return err
	}
	for i, h := range have {
		if h != want[i] {
			level, n := tlog.SplitStoredHashIndex(int64(i))
			return fmt.Errorf("log_hashes: stored hash %d (level %d, node %d) is %s, the journal's is %s", i, level, n, h, want[i])
		}
	}
	return nil
}

// firstRow returns the first row of query, formatted, or "".
func firstRow(ctx context.Context, c *sql.Conn, query string) (string, error) {
	rows, err := c.QueryContext(ctx, query)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	if !rows.Next() {
		return "", rows.Err()
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range vals {
		if i > 0 {
			b.WriteString(", ")
		}
		if x, ok := v.([]byte); ok {
			fmt.Fprintf(&b, "%s=x'%x'", cols[i], x)
		} else {
			fmt.Fprintf(&b, "%s=%v", cols[i], v)
		}
	}
	b.WriteByte(')')
	return b.String(), nil
}
