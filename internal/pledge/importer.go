package pledge

import (
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/truce-dev/truce/internal/truce"
)

// Commit journals one change of each kind before the Book applies it.
type Commit struct {
	Pledge      func(truce.Pledge) error
	Requirement func(truce.Requirement) error
	Support     func(truce.Support) error
}

// ImportResult is what an import did.
type ImportResult struct {
	Requirements, Pledges, Stages, Support int // records made or changed
	Unchanged                              int // rows the Book already held
	// Problems are the rows that could not be applied, each naming its
	// file line (pledges) or record; the other rows were applied.
	Problems truce.Problems
}

// Files are decoded import files and their names, for errors.
type Files struct {
	Requirements     []truce.Requirement
	RequirementsFile string
	Pledges          []PledgeRow
	PledgesFile      string
	Support          []truce.Support
	SupportFile      string
}

// Import applies decoded files to b: requirements, then pledges row by row
// (the first row of a pledge records it, later ones advance it), then
// support records. Importing the same files again changes nothing. A row
// the Book refuses (a stage going back, a stale requirement) is reported
// and the rest are applied; an error from commit stops the import.
func (b *Book) Import(in Files, c Commit) (ImportResult, error) {
	reqs, rows, sup := in.Requirements, in.Pledges, in.Support
	var res ImportResult
	refuse := func(where, rec string, err error) {
		var ve *truce.ValidationError
		if errors.As(err, &ve) {
			ve.Where = where
			res.Problems = append(res.Problems, ve)
			return
		}
		res.Problems = append(res.Problems, &truce.ValidationError{Where: where, Record: rec, Reason: err.Error()})
	}
	// commitErr tells the journal's failures from the Book's refusals.
	var commitErr error
	wrap := func(f func() error) error {
		if err := f(); err != nil {
			commitErr = err
			return err
		}
		return nil
	}
	for _, r := range reqs {
		cur, ok := b.requirement(r.ID)
		version := 0
		if ok {
			r.Version = cur.Version
			if reflect.DeepEqual(cur, r) {
				res.Unchanged++
				continue
			}
			version = cur.Version
		}
		if _, err := b.PutRequirement(r, version, func(x truce.Requirement) error { return wrap(func() error { return c.Requirement(x) }) }); err != nil {
			if commitErr != nil {
				return res, commitErr
			}
			refuse(in.RequirementsFile, "requirement "+r.ID, err)
			continue
		}
		res.Requirements++
	}
	for _, row := range rows {
		where := fmt.Sprintf("%s:%d", in.PledgesFile, row.Line)
		cur, ok := b.Pledge(row.Pledge.ID)
		var err error
		switch {
		case !ok:
			_, err = b.AddPledge(row.Pledge, row.Change, func(x truce.Pledge) error { return wrap(func() error { return c.Pledge(x) }) })
			if err == nil {
				res.Pledges++
			}
		case slices.ContainsFunc(cur.History, func(h truce.StageChange) bool { return h.Stage == row.Change.Stage && h.Date.Equal(row.Change.Date) }):
			res.Unchanged++ // imported before
			continue
		default:
			q := 0.0
			if row.Pledge.Quantity != cur.Quantity {
				q = row.Pledge.Quantity
			}
			_, err = b.Advance(cur.ID, cur.Version, row.Change, q, func(x truce.Pledge) error { return wrap(func() error { return c.Pledge(x) }) })
			if err == nil {
				res.Stages++
			}
		}
		if err != nil {
			if commitErr != nil {
				return res, commitErr
			}
			refuse(where, "pledge "+row.Pledge.ID, err)
		}
	}
	for _, s := range sup {
		if cur, ok := b.supportRecord(s.ID); ok && reflect.DeepEqual(cur, s) {
			res.Unchanged++
			continue
		}
		if _, err := b.AddSupport(s, func(x truce.Support) error { return wrap(func() error { return c.Support(x) }) }); err != nil {
			if commitErr != nil {
				return res, commitErr
			}
			refuse(in.SupportFile, "support "+s.ID, err)
			continue
		}
		res.Support++
	}
	return res, nil
}

func (b *Book) requirement(id string) (truce.Requirement, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	r, ok := b.reqs[id]
	if !ok {
		return truce.Requirement{}, false
	}
	return *r, true
}

func (b *Book) supportRecord(id string) (truce.Support, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	s, ok := b.support[id]
	if !ok {
		return truce.Support{}, false
	}
	return *s, true
}
