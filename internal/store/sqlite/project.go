package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/truce"
)

// Columns of the tables written in bulk.
var (
	journalCols      = []string{"seq", "kind", "time_us", "key", "entry"}
	observationsCols = []string{"id", "recorded_us", "org", "source", "source_id", "time_us", "category", "lat", "lon", "tlp", "rel_to"}
	tokensCols       = []string{"hash", "seq", "id", "org", "kind", "role", "label", "created_us"}
)

// projection holds the projection rows of some entries, as statement
// arguments in column order. It is the one place that says how an entry
// projects, for Append, Rebuild and VerifyProjections alike.
type projection struct {
	obs, tok []any
}

func (p *projection) reset() {
	clear(p.obs)
	clear(p.tok)
	p.obs, p.tok = p.obs[:0], p.tok[:0]
}

// add appends the projection rows of e.
func (p *projection) add(e *journal.Entry) {
	switch {
	case e.Kind == journal.KindObservation && e.Observation != nil:
		o := e.Observation
		pos := o.Position()
		p.obs = append(p.obs, int64(e.Seq), e.Time.UnixMicro(), string(e.Org), o.Source, o.SourceID,
			o.Time.UnixMicro(), string(o.Category), pos.Lat, pos.Lon, string(o.Marking.TLP), joinOrgs(o.Marking.RelTo))
	case e.Kind == journal.KindToken && e.Token != nil:
		t := e.Token
		p.tok = append(p.tok, t.Hash[:], int64(e.Seq), t.ID, string(t.Org), string(t.Kind), string(t.Role), t.Label, e.Time.UnixMicro())
	}
}

// insert writes the rows into the projection tables, whose names carry
// prefix.
func (p *projection) insert(ctx context.Context, ins *inserter, prefix string) error {
	if err := ins.insert(ctx, prefix+"observations", observationsCols, p.obs); err != nil {
		return fmt.Errorf("insert observations: %w", err)
	}
	// The first entry for a token hash wins, as it would in a rebuild.
	if err := ins.insert(ctx, "OR IGNORE "+prefix+"tokens", tokensCols, p.tok); err != nil {
		return fmt.Errorf("insert tokens: %w", err)
	}
	return nil
}

// joinOrgs writes rel_to for its column. Organisation ids hold no ','
// (truce.ValidOrgID).
func joinOrgs(orgs []truce.OrgID) string {
	switch len(orgs) {
	case 0:
		return ""
	case 1:
		return string(orgs[0])
	}
	var b strings.Builder
	for i, o := range orgs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(o))
	}
	return b.String()
}

func splitOrgs(s string) []truce.OrgID {
	if s == "" {
		return nil
	}
	n := strings.Count(s, ",") + 1
	orgs := make([]truce.OrgID, 0, n)
	for s != "" {
		o, rest, _ := strings.Cut(s, ",")
		orgs = append(orgs, truce.OrgID(o))
		s = rest
	}
	return orgs
}

// rowsPerInsert bounds the rows of one multi-row INSERT statement.
const rowsPerInsert = 256

// inserter writes rows with multi-row INSERT statements prepared on one
// connection and kept.
type inserter struct {
	c     *sql.Conn
	stmts map[string]*sql.Stmt
}

func newInserter(c *sql.Conn) *inserter { return &inserter{c: c, stmts: map[string]*sql.Stmt{}} }

func (in *inserter) close() {
	for k, s := range in.stmts {
		s.Close()
		delete(in.stmts, k)
	}
}

// insert writes args, rows of len(cols) values each, into table (which
// may start with a conflict clause: "OR IGNORE tokens").
func (in *inserter) insert(ctx context.Context, table string, cols []string, args []any) error {
	nc := len(cols)
	for len(args) > 0 {
		n := min(len(args)/nc, rowsPerInsert)
		s, err := in.stmt(ctx, table, cols, n)
		if err != nil {
			return err
		}
		if _, err := s.ExecContext(ctx, args[:n*nc]...); err != nil {
			return err
		}
		args = args[n*nc:]
	}
	return nil
}

func (in *inserter) stmt(ctx context.Context, table string, cols []string, n int) (*sql.Stmt, error) {
	k := fmt.Sprintf("%s/%d", table, n)
	if s, ok := in.stmts[k]; ok {
		return s, nil
	}
	var b strings.Builder
	verb := "INSERT INTO "
	if t, ok := strings.CutPrefix(table, "OR IGNORE "); ok {
		verb, table = "INSERT OR IGNORE INTO ", t
	}
	fmt.Fprintf(&b, "%s%s (%s) VALUES ", verb, table, strings.Join(cols, ", "))
	row := "(?" + strings.Repeat(", ?", len(cols)-1) + ")"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	s, err := in.c.PrepareContext(ctx, b.String())
	if err != nil {
		return nil, err
	}
	in.stmts[k] = s
	return s, nil
}
