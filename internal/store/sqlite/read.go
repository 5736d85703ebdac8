package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store"
	"github.com/truce-dev/truce/internal/truce"
)

// Limits of Observations.
const (
	defaultLimit = 100
	maxLimit     = 1000
	// scanBudget bounds the rows one Observations call scans: a viewer who
	// may see few of them gets a short page and a cursor.
	scanBudget = 10000
)

// Observation returns observation id if viewer may see it, else
// truce.ErrNotFound.
func (d *DB) Observation(ctx context.Context, viewer truce.Principal, id uint64) (store.ObservationRecord, error) {
	var (
		org, tlp, relTo string
		raw             []byte
	)
	err := d.db.QueryRowContext(ctx, `SELECT o.org, o.tlp, o.rel_to, j.entry
		FROM observations o JOIN journal j ON j.seq = o.id WHERE o.id = ?`, int64(id)).Scan(&org, &tlp, &relTo, &raw)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !viewer.CanSee(truce.Marking{TLP: truce.TLP(tlp), RelTo: splitOrgs(relTo)}, truce.OrgID(org)) {
		return store.ObservationRecord{}, fmt.Errorf("sqlite: observation %d: %w", id, truce.ErrNotFound)
	}
	if err != nil {
		return store.ObservationRecord{}, fmt.Errorf("sqlite: observation %d: %w", id, err)
	}
	rec, err := record(raw)
	if err != nil {
		return store.ObservationRecord{}, fmt.Errorf("sqlite: observation %d: %w", id, err)
	}
	return rec, nil
}

func record(raw []byte) (store.ObservationRecord, error) {
	e, err := journal.Decode(raw)
	if err != nil {
		return store.ObservationRecord{}, err
	}
	if e.Observation == nil {
		return store.ObservationRecord{}, fmt.Errorf("entry %d is a %s entry", e.Seq, e.Kind)
	}
	return store.ObservationRecord{ID: e.Seq, Recorded: e.Time, Org: e.Org, Observation: *e.Observation}, nil
}

// Observations lists the observations matching q that q.Viewer may see,
// in id order (see store.Observations). It scans at most about 10,000 rows
// per call.
func (d *DB) Observations(ctx context.Context, q store.ObservationQuery) ([]store.ObservationRecord, uint64, error) {
	if !q.Viewer.CanRead() {
		return nil, 0, nil
	}
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = defaultLimit
	case limit > maxLimit:
		limit = maxLimit
	}
	var where strings.Builder
	args := []any{int64(q.After)}
	where.WriteString("o.id > ?")
	if !q.From.IsZero() {
		where.WriteString(" AND o.time_us >= ?")
		args = append(args, ceilMicro(q.From))
	}
	if !q.To.IsZero() {
		where.WriteString(" AND o.time_us < ?")
		args = append(args, ceilMicro(q.To))
	}
	if b := q.BBox; b != nil {
		where.WriteString(" AND o.lat >= ? AND o.lat <= ?")
		args = append(args, b.MinLat, b.MaxLat)
		if b.MinLon <= b.MaxLon {
			where.WriteString(" AND o.lon >= ? AND o.lon <= ?")
		} else {
			where.WriteString(" AND (o.lon >= ? OR o.lon <= ?)")
		}
		args = append(args, b.MinLon, b.MaxLon)
	}
	if len(q.Categories) > 0 {
		where.WriteString(" AND o.category IN (?" + strings.Repeat(", ?", len(q.Categories)-1) + ")")
		for _, c := range q.Categories {
			args = append(args, string(c))
		}
	}
	if len(q.Sources) > 0 {
		where.WriteString(" AND o.source IN (?" + strings.Repeat(", ?", len(q.Sources)-1) + ")")
		for _, s := range q.Sources {
			args = append(args, s)
		}
	}
	args = append(args, scanBudget+1)
	// Rows are scanned in id order (SQLite walks the primary key) and the
	// scan stops at the page's end or after scanBudget rows; one more row
	// tells whether there is a next page.
	rows, err := d.db.QueryContext(ctx, `SELECT o.id, o.org, o.tlp, o.rel_to, j.entry
		FROM observations o JOIN journal j ON j.seq = o.id
		WHERE `+where.String()+` ORDER BY o.id LIMIT ?`, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: observations: %w", err)
	}
	defer rows.Close()
	var (
		page    []store.ObservationRecord
		scanned int
		last    uint64
		next    uint64
	)
	for rows.Next() {
		if len(page) == limit || scanned == scanBudget {
			next = last // there is more
			break
		}
		var (
			id              int64
			org, tlp, relTo string
			raw             sql.RawBytes
		)
		if err := rows.Scan(&id, &org, &tlp, &relTo, &raw); err != nil {
			return nil, 0, fmt.Errorf("sqlite: observations: %w", err)
		}
		scanned++
		last = uint64(id)
		if !q.Viewer.CanSee(truce.Marking{TLP: truce.TLP(tlp), RelTo: splitOrgs(relTo)}, truce.OrgID(org)) {
			continue
		}
		rec, err := record(raw)
		if err != nil {
			return nil, 0, fmt.Errorf("sqlite: observations: entry %d: %w", id, err)
		}
		page = append(page, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlite: observations: %w", err)
	}
	return page, next, nil
}

// ceilMicro returns t in microseconds since the epoch, rounded up: for a
// whole number of microseconds m, m >= t exactly when m >= ceilMicro(t).
func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}

// TokenByHash returns the token whose secret hashes to hash, or
// truce.ErrNotFound.
func (d *DB) TokenByHash(ctx context.Context, hash [32]byte) (truce.Token, error) {
	t, err := scanToken(d.db.QueryRowContext(ctx, "SELECT "+tokenCols+" FROM tokens WHERE hash = ?", hash[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return truce.Token{}, fmt.Errorf("sqlite: token %x: %w", hash[:6], truce.ErrNotFound)
	}
	if err != nil {
		return truce.Token{}, fmt.Errorf("sqlite: token %x: %w", hash[:6], err)
	}
	return t, nil
}

// Tokens lists every token, oldest first.
func (d *DB) Tokens(ctx context.Context) ([]truce.Token, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT "+tokenCols+" FROM tokens ORDER BY seq")
	if err != nil {
		return nil, fmt.Errorf("sqlite: tokens: %w", err)
	}
	defer rows.Close()
	var ts []truce.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: tokens: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: tokens: %w", err)
	}
	return ts, nil
}

const tokenCols = "hash, id, org, kind, role, label, created_us"

func scanToken(s interface{ Scan(...any) error }) (truce.Token, error) {
	var (
		t               truce.Token
		hash            []byte
		org, kind, role string
		created         int64
	)
	if err := s.Scan(&hash, &t.ID, &org, &kind, &role, &t.Label, &created); err != nil {
		return truce.Token{}, err
	}
	if len(hash) != len(t.Hash) {
		return truce.Token{}, fmt.Errorf("token %s: hash of %d bytes", t.ID, len(hash))
	}
	copy(t.Hash[:], hash)
	t.Org, t.Kind, t.Role = truce.OrgID(org), truce.OrgKind(kind), truce.Role(role)
	t.Created = time.UnixMicro(created).UTC()
	return t, nil
}
