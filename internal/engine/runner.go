package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/truce-dev/truce/internal/feed"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store"
)

// Feed carries the engine's events to live subscribers (the stream).
type Feed = feed.Feed[Event]

// NewFeed returns an event feed with no subscribers.
func NewFeed() *Feed { return feed.New[Event]() }

// Runner feeds an Engine from a store: the whole journal at start
// (CatchUp), then every commit as it happens (Committed, then Run). It
// publishes the engine's events and journals its level changes and
// trigger transitions.
type Runner struct {
	eng    *Engine
	st     store.Store
	events *Feed

	mu     sync.Mutex
	err    error
	queue  [][]journal.Entry
	wake   chan struct{}
	closed bool
}

// NewRunner returns a runner of eng over st, publishing to events.
func NewRunner(eng *Engine, st store.Store, events *Feed) *Runner {
	return &Runner{eng: eng, st: st, events: events, wake: make(chan struct{}, 1)}
}

// Committed queues a commit's entries for the engine. It never blocks:
// use it as (part of) the store's commit hook.
func (r *Runner) Committed(entries []journal.Entry) {
	r.mu.Lock()
	if !r.closed {
		r.queue = append(r.queue, entries)
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// catchUpBatch is how many entries CatchUp hands the engine at a time.
const catchUpBatch = 10000

// CatchUp applies every journal entry the engine has not seen, and
// journals what it derives.
func (r *Runner) CatchUp(ctx context.Context) error {
	var batch []journal.Entry
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, derived := r.eng.Apply(batch)
		batch = batch[:0]
		return r.journal(ctx, derived)
	}
	err := r.st.Entries(ctx, r.eng.Head(), 0, func(e *journal.Entry, _ []byte) error {
		// Cut only between recording times (commits), as live commits are.
		if len(batch) >= catchUpBatch && !e.Time.Equal(batch[len(batch)-1].Time) {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, copyEntry(e))
		return nil
	})
	if err != nil {
		return fmt.Errorf("engine: catch up: %w", err)
	}
	return flush()
}

// copyEntry returns e with its bodies copied: store entries are valid only
// during the callback that gives them.
func copyEntry(e *journal.Entry) journal.Entry {
	c := *e
	if e.Observation != nil {
		o := *e.Observation
		c.Observation = &o
	}
	if e.Level != nil {
		l := *e.Level
		c.Level = &l
	}
	if e.Trigger != nil {
		t := *e.Trigger
		c.Trigger = &t
	}
	if e.Window != nil {
		w := *e.Window
		c.Window = &w
	}
	c.Token = nil // the engine has no use for tokens
	return c
}

// Run applies queued commits until ctx is done or Close is called. Entries
// another process journaled (truce ingest --db beside truce serve) reach
// no commit hook here: when a commit skips past them, they are read from
// the store first. A failure to journal derived entries is kept (Err) and
// retried with the next commit, so nothing derived is lost.
func (r *Runner) Run(ctx context.Context) error {
	var pending []journal.Entry // derived, not yet journaled
	for {
		r.mu.Lock()
		q := r.queue
		r.queue = nil
		closed := r.closed
		r.mu.Unlock()
		for _, entries := range q {
			if len(entries) > 0 && entries[0].Seq > r.eng.Head()+1 {
				if err := r.CatchUp(ctx); err != nil {
					r.fail(err)
				}
			}
			events, derived := r.eng.Apply(entries)
			r.events.Publish(events)
			pending = append(pending, derived...)
		}
		if len(pending) > 0 {
			if err := r.journal(ctx, pending); err != nil {
				r.fail(err)
			} else {
				pending = nil
				r.fail(nil)
			}
		}
		if closed {
			return r.Err()
		}
		if len(q) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return r.Err()
		case <-r.wake:
		}
	}
}

func (r *Runner) fail(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
}

// Err returns the last failure to judge or journal, nil once it has been
// overcome.
func (r *Runner) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close makes Run return once it has applied what is queued.
func (r *Runner) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Runner) journal(ctx context.Context, derived []journal.Entry) error {
	if len(derived) == 0 {
		return nil
	}
	if _, err := r.st.Append(ctx, derived); err != nil {
		return fmt.Errorf("engine: journal %d level changes: %w", len(derived), err)
	}
	return nil
}

// Judge replays the journal of st into e without writing anything, as the
// journal stood for the period up to cutoff: observations of events after
// cutoff and windows of silence that begin after it are left out. It
// returns the level changes and trigger transitions it derived, for
// reports. Batches are cut where the recording time changes, as commits
// are.
func Judge(ctx context.Context, e *Engine, st store.Journal, cutoff time.Time) ([]journal.Entry, error) {
	var batch, derived []journal.Entry
	flush := func() {
		if len(batch) > 0 {
			_, d := e.Apply(batch)
			derived = append(derived, d...)
			batch = batch[:0]
		}
	}
	err := st.Entries(ctx, e.Head(), 0, func(en *journal.Entry, _ []byte) error {
		switch {
		case en.Observation != nil && en.Observation.Time.After(cutoff):
			return nil
		case en.Window != nil && en.Window.Period.From.After(cutoff):
			return nil
		}
		if len(batch) >= catchUpBatch && !en.Time.Equal(batch[len(batch)-1].Time) {
			flush()
		}
		batch = append(batch, copyEntry(en))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("engine: judge: %w", err)
	}
	flush()
	return derived, nil
}
