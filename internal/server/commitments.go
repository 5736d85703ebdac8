package server

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/pledge"
	"github.com/truce-dev/truce/internal/store"
	"github.com/truce-dev/truce/internal/truce"
)

// Commitments returns the coalition's commitments rebuilt from the
// journal, and the renewed-aggression triggers it holds as fired (Activate
// journals the activations a firing calls for that the journal lacks; a
// reader that only reads the Book need not).
func Commitments(ctx context.Context, st store.Journal, opt pledge.Options) (*pledge.Book, []truce.Trigger, error) {
	b := pledge.NewBook(opt)
	var fired []truce.Trigger
	err := st.Entries(ctx, 0, 0, func(e *journal.Entry, _ []byte) error {
		b.Apply(e.Pledge, e.Requirement, e.Activation, e.Support)
		if e.Kind == journal.KindTrigger && e.Trigger != nil && e.Trigger.Fired {
			t := *e.Trigger
			t.Critical = slices.Clone(t.Critical)
			fired = append(fired, t)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("server: rebuild commitments: %w", err)
	}
	return b, fired, nil
}

// Activate journals the activations trigger t calls for: none unless it
// fired, none twice.
func Activate(ctx context.Context, b *pledge.Book, st store.Journal, t truce.Trigger) ([]truce.Activation, error) {
	if !t.Fired {
		return nil, nil
	}
	return b.Trigger(truce.RenewedAggression, t.At, journalActivations(ctx, st, "activations"))
}

// journalActivations journals activations, recorded by the coalition.
func journalActivations(ctx context.Context, st store.Journal, what string) func([]truce.Activation) error {
	return func(as []truce.Activation) error {
		es := make([]journal.Entry, len(as))
		for i := range as {
			a := as[i].Canonical()
			es[i] = journal.Entry{Kind: journal.KindActivation, Org: "coalition", Activation: &a}
		}
		if _, err := st.Append(ctx, es); err != nil {
			return fmt.Errorf("server: journal %d %s: %w", len(as), what, err)
		}
		return nil
	}
}

// followTriggers activates contingent pledges as the renewed-aggression
// trigger fires, following the journal's commits after entry from until
// they end. A follower that falls behind reads what it missed from the
// journal and follows again.
func followTriggers(ctx context.Context, b *pledge.Book, st store.Journal, feed *journal.Feed, from uint64, log *slog.Logger) {
	seen := from
	handle := func(e *journal.Entry) {
		if e.Seq <= seen {
			return
		}
		seen = e.Seq
		if e.Kind != journal.KindTrigger || e.Trigger == nil || !e.Trigger.Fired {
			return
		}
		as, err := Activate(ctx, b, st, *e.Trigger)
		if err != nil {
			log.Error("activate contingent pledges", "err", err)
			return
		}
		log.Info("renewed-aggression trigger: contingent pledges activated", "activations", len(as), "at", e.Trigger.At)
	}
	for catchUp := true; ; catchUp = true {
		sub := feed.Subscribe(1024)
		if catchUp {
			// What committed before the subscription began.
			err := st.Entries(ctx, seen, 0, func(e *journal.Entry, _ []byte) error {
				c := *e
				if e.Trigger != nil {
					t := *e.Trigger
					c.Trigger = &t
				}
				handle(&c)
				return nil
			})
			if err != nil {
				log.Error("follow triggers", "err", err)
			}
		}
		for es := range sub.C {
			for i := range es {
				handle(&es[i])
			}
		}
		sub.Close()
		if !sub.Lost() || ctx.Err() != nil {
			return
		}
	}
}

// MarkOverdue journals, as of now, the activations that fell due
// unacknowledged and are not yet recorded as overdue.
func MarkOverdue(ctx context.Context, b *pledge.Book, st store.Journal, now time.Time) ([]truce.Activation, error) {
	return b.MarkOverdue(now, journalActivations(ctx, st, "overdue activations"))
}

// watchOverdue records overdue activations every interval until ctx ends.
func watchOverdue(ctx context.Context, b *pledge.Book, st store.Journal, interval time.Duration, now func() time.Time, log *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if as, err := MarkOverdue(ctx, b, st, now()); err != nil {
			if ctx.Err() == nil {
				log.Error("record overdue activations", "err", err)
			}
		} else if len(as) > 0 {
			log.Warn("activations overdue: their nations have not acknowledged them", "activations", len(as))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
