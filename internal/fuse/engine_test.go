package fuse

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

func pointInput(id uint64, source string, m truce.Method, at time.Time, p geo.Point, cep float64) Input {
	return Input{ID: id, Org: "osce", Observation: truce.Observation{
		Source: source, SourceID: fmt.Sprint(id), Method: m, Category: truce.CategoryExplosion, Count: 1,
		Time: at, Location: &truce.Location{Point: p, CEP: cep}, Reliability: 'B', Credibility: 2,
	}}
}

func TestExpire(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Horizon = 0
	e := New(cfg)
	p1, p2, p3 := geo.Pt(48, 37), geo.Pt(48.5, 38), geo.Pt(47.5, 36.5)
	e.Add(pointInput(1, "a", truce.MethodAcoustic, base, p1, 50))
	e.Add(pointInput(2, "b", truce.MethodAcoustic, base.Add(time.Hour), p2, 50))
	e.Add(pointInput(3, "c", truce.MethodHeard, base.Add(20*time.Minute), p3, 300))
	e.Add(pointInput(4, "d", truce.MethodHeard, base.Add(22*time.Minute), p3, 300))
	if got, want := len(e.Incidents()), 3; got != want {
		t.Fatalf("got %d incidents, want %d", got, want)
	}
	// Cutoff at 21 min: 1 goes; 3 is older but its incident ends at 22 min.
	if got, want := e.Expire(base.Add(21*time.Minute)), 1; got != want {
		t.Errorf("got %d dropped, want %d", got, want)
	}
	if got, want := e.Len(), 3; got != want {
		t.Errorf("got Len %d, want %d", got, want)
	}
	if got, want := e.Expire(base.Add(30*time.Minute)), 2; got != want {
		t.Errorf("got %d dropped, want %d", got, want)
	}
	incs := e.Incidents()
	if len(incs) != 1 || incs[0].Observations[0].ID != 2 {
		t.Errorf("got %v, want only the incident of 2", incs)
	}
	// Too late: a report of 5 min, compatible with 1 had it stayed, comes
	// back on its own and does not enter the window.
	changed, gone := e.Add(pointInput(5, "e", truce.MethodAcoustic, base.Add(5*time.Second), p1, 50))
	if len(changed) != 1 || len(changed[0].Observations) != 1 || len(gone) != 0 {
		t.Errorf("late report: got %v, %v; want one incident of its own", changed, gone)
	}
	if got, want := e.Len(), 1; got != want {
		t.Errorf("got Len %d, want %d", got, want)
	}
}

func TestHorizon(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Horizon = time.Hour
	e := New(cfg)
	e.Add(pointInput(1, "a", truce.MethodAcoustic, base, geo.Pt(48, 37), 50))
	e.Add(pointInput(2, "b", truce.MethodAcoustic, base.Add(30*time.Minute), geo.Pt(48, 37), 50))
	if got, want := e.Len(), 2; got != want {
		t.Errorf("within the horizon: got Len %d, want %d", got, want)
	}
	// newest − horizon = 1 h 30 − 1 h = 30 min: 1 leaves, 2 stays.
	e.Add(pointInput(3, "c", truce.MethodAcoustic, base.Add(90*time.Minute), geo.Pt(48, 37), 50))
	if got, want := e.Len(), 2; got != want {
		t.Errorf("beyond the horizon: got Len %d, want %d", got, want)
	}
}

// idFor is the id of an incident named after the given member: "inc-" and
// the first 16 hex digits of SHA-256(org NUL source NUL source id).
func idFor(in Input) string {
	h := sha256.Sum256([]byte(string(in.Org) + "\x00" + in.Observation.Source + "\x00" + in.Observation.SourceID))
	return "inc-" + hex.EncodeToString(h[:8])
}

func claimInput(id uint64, sourceID string, at time.Time, p geo.Point, cep float64) Input {
	return Input{ID: id, Org: "UA", Observation: truce.Observation{
		Source: "ua-jccc", SourceID: sourceID, Method: truce.MethodPartyReport, Party: "UA", Category: truce.CategoryExplosion, Count: 1,
		Time: at, TimeUncertainty: 30 * time.Minute, Location: &truce.Location{Point: p, CEP: cep}, Reliability: 'F', Credibility: 6,
	}}
}

// TestID checks that an incident is named after its strong member of
// smallest SHA-256(org NUL source NUL source id), whatever the order of
// arrival, even when a weak member's hash is smaller; and a weak report
// alone after itself.
func TestID(t *testing.T) {
	inputs := []Input{
		pointInput(1, "a", truce.MethodHeard, base, geo.Pt(48, 37), 100),
		pointInput(2, "b", truce.MethodHeard, base.Add(time.Minute), geo.Pt(48, 37), 100),
		pointInput(3, "c", truce.MethodHeard, base.Add(2*time.Minute), geo.Pt(48, 37), 100),
	}
	want := ""
	for _, in := range inputs {
		if id := idFor(in); want == "" || id < want {
			want = id
		}
	}
	if len(want) != len("inc-")+16 {
		t.Fatalf("id %s: want 16 hex digits", want)
	}
	// a claim whose hash is smaller than every strong member's
	var claim Input
	for i := 0; ; i++ {
		claim = claimInput(4, fmt.Sprint("c", i), base.Add(10*time.Minute), geo.Pt(48, 37), 1000)
		if idFor(claim) < want {
			break
		}
	}
	inputs = append(inputs, claim)
	for _, order := range [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 2, 0}} {
		e := New(DefaultConfig())
		for _, i := range order {
			e.Add(inputs[i])
		}
		incs := e.Incidents()
		if len(incs) != 1 || incs[0].ID != want || len(incs[0].Observations) != 4 {
			t.Errorf("order %v: got %v, want one incident %s of 4", order, incs, want)
		}
	}
	e := New(DefaultConfig())
	if changed, _ := e.Add(claim); changed[0].ID != idFor(claim) {
		t.Errorf("claim alone: got id %s, want %s", changed[0].ID, idFor(claim))
	}
}

// TestWeakNeverBridges: a chain of strong incidents, each 1.2 km from the
// next, with a claim of 3 km CEP over all of them, stays as many incidents;
// the claim joins one, and moves when a report of better rank arrives.
func TestWeakNeverBridges(t *testing.T) {
	var strong []Input
	for i := range 5 {
		strong = append(strong, pointInput(uint64(i+1), fmt.Sprint("p", i), truce.MethodSeen, base, geo.Destination(geo.Pt(48, 37), 90, 1200*float64(i)), 100))
	}
	claim := claimInput(10, "c", base.Add(20*time.Minute), geo.Destination(geo.Pt(48, 37), 90, 2400), 3000)
	all := append(slices.Clone(strong), claim)
	incs := Fuse(DefaultConfig(), all)
	if len(incs) != 5 {
		t.Fatalf("got %d incidents, want 5", len(incs))
	}
	// the claim joins the incident of least key
	best := strong[0]
	for _, in := range strong {
		if idFor(in) < idFor(best) {
			best = in
		}
	}
	for _, in := range incs {
		ids := memberIDs(in)
		if want := in.ID == idFor(best); slices.Contains(ids, 10) != want || in.ID != idFor(all[ids[0]-1]) {
			t.Errorf("incident %s %v: the claim should join %s only", in.ID, ids, idFor(best))
		}
	}
	// strong reports arriving in the worst order make the claim move
	slices.SortFunc(strong, func(a, b Input) int { return -cmpString(idFor(a), idFor(b)) })
	e := New(DefaultConfig())
	e.Add(claim)
	moves := 0
	for _, in := range strong {
		changed, _ := e.Add(in)
		if len(changed) == 2 {
			moves++
		}
	}
	if moves != 4 {
		t.Errorf("got %d moves, want 4", moves)
	}
	if d := diffIncidents(e.Incidents(), incs); d != "" {
		t.Error(d)
	}
}

// TestBigIncident extends one incident far past the size at which it is
// summarised incrementally and checks it against Fuse.
func TestBigIncident(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	var inputs []Input
	for i := range n {
		in := pointInput(uint64(i+1), fmt.Sprint("s", i%50), truce.MethodHeard, base.Add(time.Duration(i)*time.Second), geo.Pt(48+float64(i%7)*1e-4, 37), 200)
		inputs = append(inputs, in)
	}
	e := New(DefaultConfig())
	for _, in := range inputs {
		e.Add(in)
	}
	got := e.Incidents()
	if len(got) != 1 || len(got[0].Observations) != n {
		t.Fatalf("got %d incidents, want one of %d", len(got), n)
	}
	if d := diffIncidents(got, Fuse(DefaultConfig(), inputs)); d != "" {
		t.Error(d)
	}
	if got[0].Sources != 50 {
		t.Errorf("got %d sources, want 50", got[0].Sources)
	}
}
