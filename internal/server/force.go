package server

import (
	"context"
	"fmt"
	"slices"

	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/deconflict"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store"
	"github.com/truce-dev/truce/internal/truce"
)

// Force returns the coalition's deconfliction state for agreement a,
// rebuilt from the journal: every activity as last journaled, and each
// unit's last position and standing as the journaled positions leave them.
func Force(ctx context.Context, a *truce.Agreement, st store.Journal) (*deconflict.Planner, *deconflict.Monitor, error) {
	p := deconflict.NewPlanner(a, deconflict.IndexOptions{})
	m := deconflict.NewMonitor(p, agreement.NewIndex(a, agreement.IndexOptions{}))
	err := st.Entries(ctx, 0, 0, func(e *journal.Entry, _ []byte) error {
		switch {
		case e.Kind == journal.KindActivity && e.Activity != nil:
			// Canonical copies: the entry is valid only during the call.
			return p.Apply(e.Activity.Canonical())
		case e.Kind == journal.KindTracks:
			m.Observe(slices.Clone(e.Tracks))
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("server: rebuild deconfliction: %w", err)
	}
	return p, m, nil
}
