package engine

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/truce"
)

var t0 = time.Date(2026, 6, 1, 18, 0, 0, 0, time.UTC)

func simpleAgreement(t testing.TB) *truce.Agreement {
	t.Helper()
	a, err := agreement.Load("../agreement/testdata/simple/agreement.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// traffic makes n journal entries of observations near the line of the
// simple agreement (the 36th meridian, 47N to 49N): events of fire and
// sightings, each reported 1 to 3 times, some by bearing, some as party
// claims, evenly spread over span of event time (recorded two seconds
// after they happen).
func traffic(seed uint64, n int, span time.Duration) []journal.Entry {
	r := rand.New(rand.NewPCG(seed, 1))
	cats := []truce.Category{truce.CategoryExplosion, truce.CategoryImpact, truce.CategoryOutgoingFire, truce.CategoryWeaponSighting, truce.CategoryBurst}
	step := span / time.Duration(n/2+1)
	var es []journal.Entry
	recorded := t0
	for ev := 0; len(es) < n; ev++ {
		at := t0.Add(time.Duration(ev) * step)
		p := geo.Pt(47.2+r.Float64()*1.6, 35.7+r.Float64()*0.6)
		cat := cats[r.IntN(len(cats))]
		for k := range 1 + r.IntN(3) {
			o := truce.Observation{
				Source: fmt.Sprintf("src-%d", r.IntN(40)), SourceID: fmt.Sprintf("%d-%d", len(es), k),
				Method: truce.MethodAcoustic, Category: cat, Count: 1,
				Time: at.Add(time.Duration(r.IntN(5)) * time.Second), TimeUncertainty: time.Second,
				Location:    &truce.Location{Point: geo.Destination(p, r.Float64()*360, r.Float64()*200), CEP: 150},
				Reliability: 'B', Credibility: 2, Marking: truce.Marking{TLP: truce.TLPGreen},
			}
			switch r.IntN(6) {
			case 0:
				o.Method, o.Location = truce.MethodHeard, nil
				obs := geo.Destination(p, r.Float64()*360, 3000)
				o.Observer = &truce.Observer{Point: obs, Bearing: geo.Bearing(obs, p), DistanceMin: 2000, DistanceMax: 4000}
			case 1:
				o.Method, o.Party = truce.MethodPartyReport, "UA"
			}
			if cat == truce.CategoryWeaponSighting {
				o.Weapon = truce.WeaponMLRS
			}
			o = o.Canonical()
			if rec := o.Time.Add(2 * time.Second); rec.After(recorded) {
				recorded = rec
			}
			es = append(es, journal.Entry{Seq: uint64(len(es) + 1), Time: recorded.Round(truce.TimeUnit), Kind: journal.KindObservation, Org: "coalition", Observation: &o})
		}
	}
	return es
}

type outcome struct {
	incidents []Record
	derived   []journal.Entry
	sectors   []truce.SectorLevel
}

func run(t *testing.T, a *truce.Agreement, batches [][]journal.Entry) outcome {
	t.Helper()
	e, err := New(Config{Agreement: a})
	if err != nil {
		t.Fatal(err)
	}
	var out outcome
	for _, b := range batches {
		_, d := e.Apply(b)
		out.derived = append(out.derived, d...)
	}
	admin := truce.Principal{Org: "coalition", Kind: truce.OrgCoalition, Role: truce.RoleAdmin}
	for c := (Cursor{}); ; {
		page, next := e.Incidents(IncidentQuery{Viewer: admin, After: c, Limit: 1000})
		for _, r := range page {
			r.Seq = 0 // which entry last changed it depends on the batches' content, not their cut
			out.incidents = append(out.incidents, r)
		}
		if next.IsZero() {
			break
		}
		c = next
	}
	out.sectors = e.SectorsAt(time.Time{})
	return out
}

// TestBatchIndependence: the engine's judgements depend on the entries, not
// on how they are cut into commits.
func TestBatchIndependence(t *testing.T) {
	a := simpleAgreement(t)
	// 60 h: longer than the fusion horizon (6 h), and sparse enough for
	// the sectors' levels to rise and fall many times.
	es := traffic(7, 3000, 60*time.Hour)
	whole := run(t, a, [][]journal.Entry{es})
	if len(whole.incidents) == 0 || len(whole.derived) < 10 {
		t.Fatalf("%d incidents, %d level changes: the traffic proves nothing", len(whole.incidents), len(whole.derived))
	}
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 3 {
		var batches [][]journal.Entry
		for rest := es; len(rest) > 0; {
			n := min(len(rest), 1+r.IntN(400))
			batches = append(batches, rest[:n])
			rest = rest[n:]
		}
		cut := run(t, a, batches)
		if !reflect.DeepEqual(cut.incidents, whole.incidents) {
			t.Errorf("trial %d: %d incidents in %d batches differ from %d in one", trial, len(cut.incidents), len(batches), len(whole.incidents))
		}
		if !reflect.DeepEqual(cut.derived, whole.derived) {
			t.Errorf("trial %d: %d level changes and triggers, want %d, or they differ", trial, len(cut.derived), len(whole.derived))
		}
		if !reflect.DeepEqual(cut.sectors, whole.sectors) {
			t.Errorf("trial %d: sectors %+v, want %+v", trial, cut.sectors, whole.sectors)
		}
	}
}

// TestArrivalOrder: the same observations arriving in another order give
// the same incidents and violations.
func TestArrivalOrder(t *testing.T) {
	a := simpleAgreement(t)
	es := traffic(11, 2000, 2*time.Hour)
	first := run(t, a, [][]journal.Entry{es})
	shuffled := slices.Clone(es)
	rand.New(rand.NewPCG(5, 6)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for i := range shuffled {
		shuffled[i].Seq = uint64(i + 1)
	}
	second := run(t, a, [][]journal.Entry{shuffled})
	// Observation ids are journal sequence numbers, which the shuffle
	// changed: compare incidents by what does not name them.
	strip := func(rs []Record) []Record {
		out := slices.Clone(rs)
		for i := range out {
			inc := out[i].Incident
			inc.Observations = nil
			out[i].Incident = inc
		}
		return out
	}
	if got, want := strip(second.incidents), strip(first.incidents); !reflect.DeepEqual(got, want) {
		t.Errorf("shuffled arrival: %d incidents, want %d, or they differ", len(got), len(want))
	}
}

// TestVisibility: an incident is seen only by a viewer who may see every
// observation in it.
func TestVisibility(t *testing.T) {
	ref := func(tlp truce.TLP, org truce.OrgID, rel ...truce.OrgID) truce.ObservationRef {
		return truce.ObservationRef{Org: org, Marking: truce.Marking{TLP: tlp, RelTo: rel}}
	}
	public := truce.Principal{Org: "press", Kind: truce.OrgPublic, Role: truce.RoleViewer}
	ua := truce.Principal{Org: "UA", Kind: truce.OrgParty, Role: truce.RoleLiaison}
	gbr := truce.Principal{Org: "GBR", Kind: truce.OrgNation, Role: truce.RoleAnalyst}
	sensor := truce.Principal{Org: "coalition", Kind: truce.OrgCoalition, Role: truce.RoleSensor}
	tests := []struct {
		refs []truce.ObservationRef
		who  truce.Principal
		want bool
	}{
		{[]truce.ObservationRef{ref(truce.TLPClear, "coalition")}, public, true},
		{[]truce.ObservationRef{ref(truce.TLPClear, "coalition"), ref(truce.TLPGreen, "coalition")}, public, false},
		{[]truce.ObservationRef{ref(truce.TLPGreen, "coalition"), ref(truce.TLPAmber, "GBR")}, ua, false},
		{[]truce.ObservationRef{ref(truce.TLPGreen, "coalition"), ref(truce.TLPAmber, "GBR", "UA")}, ua, true},
		{[]truce.ObservationRef{ref(truce.TLPAmber, "coalition"), ref(truce.TLPRed, "GBR")}, gbr, true},
		{[]truce.ObservationRef{ref(truce.TLPClear, "coalition")}, sensor, false},
	}
	for i, tt := range tests {
		inc := truce.Incident{Observations: tt.refs}
		if got := Visible(tt.who, &inc); got != tt.want {
			t.Errorf("case %d: Visible(%s %s) = %v, want %v", i, tt.who.Org, tt.who.Role, got, tt.want)
		}
	}
}
