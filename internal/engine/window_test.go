package engine

import (
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/truce"
)

// TestWindowAcknowledgements: a window binds only once every party has
// acknowledged it; fire inside it is then judged critical, the fire that
// came before the last acknowledgement included.
func TestWindowAcknowledgements(t *testing.T) {
	a := simpleAgreement(t)
	var parties []truce.PartyID
	for _, p := range a.Parties {
		parties = append(parties, p.ID)
	}
	e, err := New(Config{Agreement: a})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 6, 1, 19, 30, 0, 0, time.UTC)
	impact := truce.Observation{Source: "acoustic-9", SourceID: "1", Method: truce.MethodAcoustic, Category: truce.CategoryImpact, Count: 1,
		Time: at, Reliability: 'B', Credibility: 2, Marking: truce.Marking{TLP: truce.TLPGreen},
		Location: &truce.Location{Point: geo.Pt(48.205, 36.105), CEP: 50}, FireBearing: 270, HasFireBearing: true}
	seq := uint64(1)
	apply := func(en journal.Entry) {
		en.Seq, en.Time = seq, at.Add(time.Duration(seq)*time.Minute)
		seq++
		e.Apply([]journal.Entry{en})
	}
	silence := func() []truce.Violation {
		recs, _ := e.Incidents(IncidentQuery{Viewer: truce.Principal{Org: "coalition", Kind: truce.OrgCoalition, Role: truce.RoleAdmin}})
		var vs []truce.Violation
		for _, r := range recs {
			for _, v := range r.Violations {
				if v.Rule == truce.RuleSilence {
					vs = append(vs, v)
				}
			}
		}
		return vs
	}

	w := truce.SilenceWindow{ID: "w-1", Name: "water main", Center: geo.Pt(48.2, 36.1), Radius: 2000,
		Period: truce.TimeRange{From: at.Add(-time.Hour), Until: at.Add(time.Hour)}, RequestedBy: "MISSION", Requested: at.Add(-2 * time.Hour)}
	apply(journal.Entry{Kind: journal.KindWindow, Org: "MISSION", Window: &w})
	apply(journal.Entry{Kind: journal.KindObservation, Org: "coalition", Observation: &impact})
	if vs := silence(); len(vs) != 0 {
		t.Fatalf("requested only: got %v, want no window_of_silence violation", vs)
	}
	for i, p := range parties {
		ack := w
		ack.Acknowledge(p, parties)
		w = ack
		apply(journal.Entry{Kind: journal.KindWindow, Org: truce.OrgID(p), Window: &ack})
		vs := silence()
		last := i == len(parties)-1
		switch {
		case !last && len(vs) != 0:
			t.Fatalf("acknowledged by %v of %v: got %v, want no window_of_silence violation", w.Acks, parties, vs)
		case last && len(vs) != 1:
			t.Fatalf("acknowledged by every party: got %d window_of_silence violations, want 1", len(vs))
		case last && (vs[0].Severity != truce.SeverityCritical || vs[0].Zone != "w-1"):
			t.Errorf("violation %+v: want severity critical in window w-1", vs[0])
		}
	}
	if ws := e.Windows(); len(ws) != 1 || !ws[0].Acknowledged || len(ws[0].Acks) != len(parties) {
		t.Errorf("Windows: got %+v, want the one window acknowledged by every party", ws)
	}
}
