package server

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/pledge"
	"github.com/truce-dev/truce/internal/store/sqlite"
	"github.com/truce-dev/truce/internal/truce"
)

// TestFollowTriggers: a fired trigger committed to the journal activates
// the contingent pledges answering it, once, through the feed; a cleared
// one activates nothing; a rebuild finds the activations.
func TestFollowTriggers(t *testing.T) {
	ctx := context.Background()
	feed := journal.NewFeed()
	db := filepath.Join(t.TempDir(), "truce.db")
	st, err := sqlite.Open(ctx, db, sqlite.Options{Now: time.Now, Committed: feed.Publish})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 12, 5, 18, 45, 0, 0, time.UTC)
	p := truce.Pledge{ID: "gbr-r1", Nation: "GBR", Capability: truce.CapLandForce, Quantity: 1, Unit: "battalion", Stage: truce.StageApproved,
		History: []truce.StageChange{{Stage: truce.StageApproved, Date: at.Add(-240 * time.Hour)}}, Contingent: true, Trigger: truce.RenewedAggression,
		Marking: truce.Marking{TLP: truce.TLPAmber}, Version: 1}
	standing := p
	standing.ID, standing.Contingent, standing.Trigger = "fra-1", false, ""
	if _, err := st.Append(ctx, []journal.Entry{{Kind: journal.KindPledge, Org: "GBR", Pledge: &p}, {Kind: journal.KindPledge, Org: "FRA", Pledge: &standing}}); err != nil {
		t.Fatal(err)
	}
	book, fired, err := Commitments(ctx, st, pledge.Options{AckWithin: time.Hour})
	if err != nil || len(fired) != 0 || len(book.Pledges(nil)) != 2 {
		t.Fatalf("rebuild: %d pledges, %d fired, %v", len(book.Pledges(nil)), len(fired), err)
	}
	head, _ := st.Head(ctx)
	watch := feed.Subscribe(64)
	done := make(chan struct{})
	go func() { defer close(done); followTriggers(ctx, book, st, feed, head, slog.New(slog.DiscardHandler)) }()
	for _, fired := range []bool{false, true, true} {
		if _, err := st.Append(ctx, []journal.Entry{{Kind: journal.KindTrigger, Org: "coalition", Trigger: &truce.Trigger{Fired: fired, At: at, Critical: []string{"a", "b", "c"}}}}); err != nil {
			t.Fatal(err)
		}
	}
	var acts []truce.Activation
	deadline := time.After(time.Minute)
	for len(acts) == 0 {
		select {
		case es := <-watch.C:
			for _, e := range es {
				if e.Kind == journal.KindActivation {
					acts = append(acts, *e.Activation)
				}
			}
		case <-deadline:
			t.Fatal("no activation journaled within a minute")
		}
	}
	feed.Close()
	<-done
	if len(acts) != 1 || acts[0].Pledge != "gbr-r1" || acts[0].Nation != "GBR" || !acts[0].At.Equal(at) || !acts[0].Due.Equal(at.Add(time.Hour)) {
		t.Errorf("activations %+v; want GBR's contingent pledge, due an hour after the firing", acts)
	}
	// Past due (an hour after the firing), unacknowledged: recorded
	// overdue in the journal, once.
	over, err := MarkOverdue(ctx, book, st, at.Add(2*time.Hour))
	if err != nil || len(over) != 1 || !over[0].OverdueAt.Equal(at.Add(time.Hour)) {
		t.Errorf("overdue %+v, %v", over, err)
	}
	if again, _ := MarkOverdue(ctx, book, st, at.Add(3*time.Hour)); len(again) != 0 {
		t.Errorf("recorded overdue twice: %v", again)
	}
	// The second identical firing (a duplicate entry) activated nothing more.
	rebuilt, fired2, err := Commitments(ctx, st, pledge.Options{})
	if err != nil || len(rebuilt.Activations(nil)) != 1 || len(fired2) != 1 || rebuilt.Activations(nil)[0].OverdueAt.IsZero() {
		t.Errorf("after: %d activations, %d fired triggers, %v; want 1 (recorded overdue) and 1", len(rebuilt.Activations(nil)), len(fired2), err)
	}
}
