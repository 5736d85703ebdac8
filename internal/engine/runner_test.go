package engine

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store/sqlite"
	"github.com/truce-dev/truce/internal/truce"
)

// openRunner opens the database at path with an engine and runner fed by
// its commit hook. now is the store's clock.
func openRunner(t *testing.T, path string, now func() time.Time) (*sqlite.DB, *Engine, *Runner, chan error) {
	t.Helper()
	eng, err := New(Config{Agreement: simpleAgreement(t)})
	if err != nil {
		t.Fatal(err)
	}
	var run atomic.Pointer[Runner]
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{Now: now, Committed: func(es []journal.Entry) {
		if r := run.Load(); r != nil {
			r.Committed(es)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	r := NewRunner(eng, db, NewFeed())
	run.Store(r)
	if err := r.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	return db, eng, r, done
}

func countKinds(t *testing.T, db *sqlite.DB) map[journal.Kind]int {
	t.Helper()
	n := map[journal.Kind]int{}
	if err := db.Entries(context.Background(), 0, 0, func(e *journal.Entry, _ []byte) error { n[e.Kind]++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRunnerRestart: live commits, then a restart that judges the whole
// journal again, then entries another process wrote: the judgements after
// the restart equal the live ones, and no level change is journaled twice.
func TestRunnerRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	var tick atomic.Int64
	now := func() time.Time { return t0.Add(80*time.Hour + time.Duration(tick.Add(1))*time.Millisecond) }
	es := traffic(21, 1500, 60*time.Hour)

	db, live, r, done := openRunner(t, path, now)
	for rest := es; len(rest) > 0; {
		n := min(len(rest), 1+len(rest)%97)
		if _, err := db.Append(context.Background(), rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	r.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	before := countKinds(t, db)
	if before[journal.KindLevel] == 0 {
		t.Fatal("the traffic changed no level: the test proves nothing")
	}
	admin := truce.Principal{Org: "coalition", Kind: truce.OrgCoalition, Role: truce.RoleAdmin}
	liveRecs, _ := live.Incidents(IncidentQuery{Viewer: admin, Limit: 1000})
	liveSectors := live.SectorsAt(time.Time{})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	var again *Engine
	db, again, r, done = openRunner(t, path, now)
	defer db.Close()
	if got := countKinds(t, db); got[journal.KindLevel] != before[journal.KindLevel] || got[journal.KindTrigger] != before[journal.KindTrigger] {
		t.Errorf("after the restart: %v entries by kind, want %v: derived entries journaled again", got, before)
	}
	againRecs, _ := again.Incidents(IncidentQuery{Viewer: admin, Limit: 1000})
	if len(againRecs) != len(liveRecs) {
		t.Errorf("after the restart: %d incidents, live %d", len(againRecs), len(liveRecs))
	}
	for i := range min(len(againRecs), len(liveRecs)) {
		if a, b := againRecs[i].Incident.ID, liveRecs[i].Incident.ID; a != b {
			t.Errorf("incident %d: %s after the restart, %s live", i, a, b)
			break
		}
	}
	if got, want := again.SectorsAt(time.Time{}), liveSectors; len(got) != len(want) || got[0].Level != want[0].Level || got[1].Level != want[1].Level {
		t.Errorf("sectors after the restart %+v, live %+v", got, want)
	}

	// Another process appends; the next local commit makes the runner
	// read the entries it skipped.
	other, err := sqlite.Open(context.Background(), path, sqlite.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	o := traffic(99, 1, time.Minute)[0]
	o.Observation.Source = "offline"
	if _, err := other.Append(context.Background(), []journal.Entry{o}); err != nil {
		t.Fatal(err)
	}
	other.Close()
	o2 := traffic(98, 1, time.Minute)[0]
	o2.Observation.Source = "online"
	outs, err := db.Append(context.Background(), []journal.Entry{o2})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if h := again.Head(); h != outs[0].Seq {
		t.Errorf("engine head %d after the local commit %d", h, outs[0].Seq)
	}
	found := false
	recs, _ := again.Incidents(IncidentQuery{Viewer: admin, From: t0, To: t0.Add(time.Hour), Limit: 1000})
	for _, rec := range recs {
		for _, m := range rec.Incident.Observations {
			found = found || m.Source == "offline"
		}
	}
	if !found {
		t.Error("the observation another process journaled was never judged")
	}
}

// TestClaimsDoNotEscalate: a party's complaints alone are judged, but move
// no alert level.
func TestClaimsDoNotEscalate(t *testing.T) {
	e, err := New(Config{Agreement: simpleAgreement(t)})
	if err != nil {
		t.Fatal(err)
	}
	var es []journal.Entry
	for i := range 40 {
		o := traffic(uint64(200+i), 1, time.Minute)[0].Observation
		o.Method, o.Party, o.Source, o.SourceID = truce.MethodPartyReport, "UA", "ua-mod", string(rune('a'+i%26))+string(rune('a'+i/26))
		o.Category, o.Weapon = truce.CategoryImpact, ""
		es = append(es, journal.Entry{Seq: uint64(i + 1), Time: t0.Add(time.Hour), Kind: journal.KindObservation, Org: "UA", Observation: o})
	}
	_, derived := e.Apply(es)
	admin := truce.Principal{Org: "coalition", Kind: truce.OrgCoalition, Role: truce.RoleAdmin}
	recs, _ := e.Incidents(IncidentQuery{Viewer: admin, Limit: 1000})
	violations := 0
	for _, r := range recs {
		violations += len(r.Violations)
	}
	if violations == 0 {
		t.Fatal("the claims were not judged at all")
	}
	if len(derived) != 0 || e.Triggered() {
		t.Errorf("%d claims alone (%d violations) changed %d levels, trigger %v; want none", len(es), violations, len(derived), e.Triggered())
	}
}
