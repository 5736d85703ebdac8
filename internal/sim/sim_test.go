package sim_test

import (
	"math"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/ingest"
	"github.com/truce-dev/truce/internal/sim"
	"github.com/truce-dev/truce/internal/truce"
)

var (
	exampleOnce sync.Once
	example     *truce.Agreement
	exampleErr  error
)

func load(tb testing.TB) *truce.Agreement {
	tb.Helper()
	exampleOnce.Do(func() { example, exampleErr = agreement.Load("../../examples/donbas/agreement.yaml") })
	if exampleErr != nil {
		tb.Fatal(exampleErr)
	}
	return example
}

var day = time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)

var (
	scOnce sync.Once
	sc1    *sim.Scenario
	sc1Err error
)

// seed1 is the default 24-hour scenario, generated once.
func seed1(t *testing.T) *sim.Scenario {
	t.Helper()
	a := load(t)
	scOnce.Do(func() { sc1, sc1Err = sim.Generate(a, sim.Config{Seed: 1, Start: day}) })
	if sc1Err != nil {
		t.Fatal(sc1Err)
	}
	return sc1
}

func TestDeterministic(t *testing.T) {
	a := load(t)
	x := seed1(t)
	y, err := sim.Generate(a, sim.Config{Seed: 1, Start: day})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(x, y) {
		t.Errorf("two scenarios from seed 1 differ")
	}
	z, err := sim.Generate(a, sim.Config{Seed: 2, Start: day})
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(x, z) {
		t.Errorf("scenarios from seeds 1 and 2 are identical")
	}
}

func TestVolumes(t *testing.T) {
	sc := seed1(t)
	if n := len(sc.Observations); n < 2000 || n > 5000 {
		t.Errorf("got %d reports, want 2000 to 5000", n)
	}
	perEvent := make([]int, len(sc.Truth))
	byMethod := map[truce.Method]int{}
	for _, r := range sc.Observations {
		byMethod[r.Observation.Method]++
		if r.Event >= 0 {
			perEvent[r.Event]++
		}
	}
	for i, n := range perEvent {
		if n < 1 || n > 4 {
			t.Errorf("event %d (%s): got %d reports, want 1 to 4", i, sc.Truth[i].Category, n)
		}
	}
	byCat := map[truce.Category]int{}
	for i, e := range sc.Truth {
		if e.ID != i {
			t.Fatalf("Truth[%d].ID = %d, want %d", i, e.ID, i)
		}
		byCat[e.Category]++
	}
	t.Logf("%d reports, %d events; events by category %v; reports by method %v",
		len(sc.Observations), len(sc.Truth), byCat, byMethod)
}

func TestReportsValid(t *testing.T) {
	sc := seed1(t)
	var last time.Time
	for i, r := range sc.Observations {
		o := r.Observation
		w := api.FromObservation(&o)
		got, rej := ingest.Validate(&w, ingest.Options{Parties: []truce.PartyID{"UA", "RU"}})
		if rej != nil {
			t.Fatalf("report %d (%s/%s): %v", i, o.Source, o.SourceID, rej)
		}
		if !reflect.DeepEqual(got, o) {
			t.Fatalf("report %d: through the wire got %+v, want %+v", i, got, o)
		}
		if !reflect.DeepEqual(o.Canonical(), o) {
			t.Errorf("report %d is not canonical", i)
		}
		if r.SentAt.Before(o.Time) {
			t.Errorf("report %d: sent at %v, before its time %v", i, r.SentAt, o.Time)
		}
		if r.SentAt.Before(last) {
			t.Errorf("report %d: sent at %v, before the previous report (%v)", i, r.SentAt, last)
		}
		last = r.SentAt
		if r.Event < -1 || r.Event >= len(sc.Truth) {
			t.Errorf("report %d: event %d out of range", i, r.Event)
		}
		switch {
		case o.Method == truce.MethodPartyReport:
			if o.Party == "" || r.Org != truce.OrgID(o.Party) {
				t.Errorf("report %d: party report with party %q from org %q", i, o.Party, r.Org)
			}
		case o.Method == truce.MethodHeard || o.Method == truce.MethodSeen ||
			o.Method == truce.MethodAcoustic || o.Method == truce.MethodCamera:
			if r.Org != sim.Coalition {
				t.Errorf("report %d: %s report from org %q, want %q", i, o.Method, r.Org, sim.Coalition)
			}
		}
		if r.Event == -1 && o.Method != truce.MethodPartyReport {
			t.Errorf("report %d: a false report from %s, want only party reports", i, o.Method)
		}
	}
	seen := map[[2]string]bool{}
	for i, r := range sc.Observations {
		k := [2]string{r.Observation.Source, r.Observation.SourceID}
		if seen[k] {
			t.Errorf("report %d: source and id %v repeated", i, k)
		}
		seen[k] = true
	}
}

func TestWithdrawalViolationsOnBothSides(t *testing.T) {
	a := load(t)
	sc := seed1(t)
	found := map[truce.PartyID]int{}
	for _, r := range sc.Observations {
		o := r.Observation
		if o.Category != truce.CategoryWeaponSighting || r.Event < 0 {
			continue
		}
		ev := sc.Truth[r.Event]
		loc := agreement.Locate(a, ev.Point)
		in := slices.ContainsFunc(loc.Zones, func(z *truce.Zone) bool {
			return z.Kind == truce.ZoneWithdrawal && slices.Contains(z.Weapons, o.Weapon)
		})
		if want := slices.Contains(ev.Violates, truce.RuleWithdrawal); in != want {
			t.Errorf("event %d: %s at %v in a withdrawal zone: got %v, want %v", ev.ID, ev.Weapon, ev.Point, in, want)
		}
		if in && loc.Party != nil && loc.Party.ID == ev.Party {
			found[ev.Party]++
		}
	}
	for _, p := range a.Parties {
		if found[p.ID] == 0 {
			t.Errorf("got no weapon sighting inside a withdrawal zone on %s's side, want at least one", p.ID)
		}
	}
}

func TestWindowOfSilenceBrokenOnce(t *testing.T) {
	sc := seed1(t)
	if len(sc.Windows) != 1 {
		t.Fatalf("got %d windows of silence, want 1", len(sc.Windows))
	}
	w := sc.Windows[0]
	if !w.Acknowledged || w.Radius <= 0 {
		t.Errorf("window %+v: want acknowledged, with a radius", w)
	}
	fire := map[truce.Category]bool{truce.CategoryImpact: true, truce.CategoryExplosion: true, truce.CategoryBurst: true}
	var inside []sim.Event
	for _, e := range sc.Truth {
		if fire[e.Category] && w.Period.Contains(e.Time) && geo.Distance(e.Point, w.Center) <= w.Radius {
			inside = append(inside, e)
		}
	}
	if len(inside) != 1 {
		t.Fatalf("got %d fire events inside the window, want 1", len(inside))
	}
	e := inside[0]
	for _, r := range []truce.Rule{truce.RuleCeasefire, truce.RuleProtectedSite, truce.RuleSilence} {
		if !slices.Contains(e.Violates, r) {
			t.Errorf("the breaking event violates %v, want it to include %s", e.Violates, r)
		}
	}
	n := 0
	for _, e := range sc.Truth {
		if slices.Contains(e.Violates, truce.RuleSilence) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("got %d events violating the window of silence, want 1", n)
	}
}

func TestRestriction(t *testing.T) {
	sc := seed1(t)
	n := 0
	for _, e := range sc.Truth {
		if e.Category == truce.CategoryRestriction {
			n++
			if !slices.Equal(e.Violates, []truce.Rule{truce.RuleFreedomOfMovement}) || e.Party == "" {
				t.Errorf("restriction %+v: want it to violate freedom_of_movement, on a party's side", e)
			}
		}
	}
	if n != 1 {
		t.Errorf("got %d restrictions, want 1", n)
	}
}

// severity weighs an event's violations as the example agreement's
// escalation does (assess: medium, high for heavy weapons; protected site
// high; window of silence critical; freedom of movement low).
func severity(e sim.Event) float64 {
	heavy := map[truce.WeaponClass]bool{truce.WeaponArtillery100Plus: true, truce.WeaponMLRS: true,
		truce.WeaponHeavyMLRS: true, truce.WeaponTacticalMissile: true}
	s := 0.0
	for _, r := range e.Violates {
		switch r {
		case truce.RuleProtectedSite:
			s += 8
		case truce.RuleSilence:
			s += 20
		case truce.RuleFreedomOfMovement:
			s += 1
		default:
			if heavy[e.Weapon] {
				s += 8
			} else {
				s += 3
			}
		}
	}
	return s
}

// maxScore returns the largest severity-weighted sum of a sector's events
// in any window of length d.
func maxScore(evs []sim.Event, sector string, d time.Duration) float64 {
	best := 0.0
	for _, a := range evs {
		if a.Sector != sector {
			continue
		}
		s := 0.0
		for _, b := range evs {
			if b.Sector == sector && !b.Time.Before(a.Time) && b.Time.Sub(a.Time) < d {
				s += severity(b)
			}
		}
		best = max(best, s)
	}
	return best
}

// TestEveningSurge checks that the surge sectors have at least 8 times as
// many fire events per sector 18:00-22:00 as the others, that their
// ground-truth score reaches CRITICAL (30) in an hour, and that no other
// sector reaches SERIOUS (12 an hour, 60 a day) except by the window of
// silence breach, which is critical on its own.
func TestEveningSurge(t *testing.T) {
	a := load(t)
	sc := seed1(t)
	surge := []string{a.Sectors[0].ID, a.Sectors[1].ID}
	evening := truce.TimeRange{From: day.Add(18 * time.Hour), Until: day.Add(22 * time.Hour)}
	var in, out float64
	for _, e := range sc.Truth {
		if e.Origin == nil || !evening.Contains(e.Time) || e.Sector == "" {
			continue
		}
		if slices.Contains(surge, e.Sector) {
			in++
		} else {
			out++
		}
	}
	in /= float64(len(surge))
	out /= float64(len(a.Sectors) - len(surge))
	if in < 8*max(out, 1) {
		t.Errorf("evening fire per sector: got %.1f in the surge sectors and %.1f elsewhere, want a ratio of at least 8", in, out)
	}
	var calm []sim.Event
	for _, e := range sc.Truth {
		if !slices.Contains(e.Violates, truce.RuleSilence) {
			calm = append(calm, e)
		}
	}
	for _, s := range a.Sectors {
		h, d := maxScore(sc.Truth, s.ID, time.Hour), maxScore(calm, s.ID, 24*time.Hour)
		t.Logf("sector %s: max 1 h score %.0f, 24 h score %.0f", s.ID, h, d)
		if slices.Contains(surge, s.ID) {
			if h < 30 {
				t.Errorf("surge sector %s: got a 1 h score of %.0f, want at least 30 (CRITICAL)", s.ID, h)
			}
			continue
		}
		if h1 := maxScore(calm, s.ID, time.Hour); h1 >= 12 || d >= 60 {
			t.Errorf("sector %s: got scores %.0f (1 h) and %.0f (24 h), want below 12 and 60 (SERIOUS)", s.ID, h1, d)
		}
	}
}

func TestPartyComplaints(t *testing.T) {
	sc := seed1(t)
	falses, inflated, trues := 0, 0, 0
	for _, r := range sc.Observations {
		o := r.Observation
		if o.Method != truce.MethodPartyReport {
			continue
		}
		if r.Event == -1 {
			falses++
			continue
		}
		e := sc.Truth[r.Event]
		if e.Party == o.Party {
			t.Errorf("party %s complains about its own fire (event %d)", o.Party, e.ID)
		}
		if r.SentAt.Sub(o.Time) < time.Hour {
			t.Errorf("complaint sent %v after the event, want hours", r.SentAt.Sub(o.Time))
		}
		if o.Count > e.Count {
			inflated++
		} else {
			trues++
		}
	}
	if falses == 0 || inflated == 0 || trues == 0 {
		t.Errorf("complaints: got %d true, %d exaggerated, %d false, want some of each", trues, inflated, falses)
	}
}

func TestPatrolBearings(t *testing.T) {
	sc := seed1(t)
	sum, n := 0.0, 0
	for _, r := range sc.Observations {
		v := r.Observation.Observer
		if v == nil || r.Event < 0 {
			continue
		}
		e := sc.Truth[r.Event]
		d := geo.Distance(v.Point, e.Point)
		if d < v.DistanceMin || d > v.DistanceMax {
			t.Errorf("%s: true distance %.0f m outside the band [%.0f, %.0f]", r.Observation.SourceID, d, v.DistanceMin, v.DistanceMax)
		}
		if w := v.DistanceMax - v.DistanceMin; w < 0.2*d || w > 0.7*d+200 {
			t.Errorf("%s: band width %.0f m for a distance of %.0f m, want 20-70 %%", r.Observation.SourceID, w, d)
		}
		if r.Observation.Time.Second() != 0 || r.Observation.Time.Nanosecond() != 0 {
			t.Errorf("%s: time %v not to the minute", r.Observation.SourceID, r.Observation.Time)
		}
		diff := math.Abs(math.Mod(v.Bearing-geo.Bearing(v.Point, e.Point)+540, 360) - 180)
		sum += diff
		n++
	}
	if n < 100 {
		t.Fatalf("got %d patrol bearing reports, want at least 100", n)
	}
	// The mean |error| of a normal error of σ = 5° is σ√(2/π) ≈ 4°.
	if mean := sum / float64(n); mean < 2 || mean > 8 {
		t.Errorf("mean bearing error over %d reports: got %.2f°, want 2 to 8", n, mean)
	}
}

func TestFireGeometry(t *testing.T) {
	a := load(t)
	sc := seed1(t)
	maxRange := map[truce.WeaponClass]float64{truce.WeaponMortar: 7000, truce.WeaponArtillery100Plus: 25000, truce.WeaponMLRS: 40000}
	for _, e := range sc.Truth {
		if e.Origin == nil {
			continue
		}
		o, i := agreement.Locate(a, *e.Origin), agreement.Locate(a, e.Point)
		if o.Party == nil || i.Party == nil || o.Party.ID != e.Party || i.Party.ID == e.Party {
			t.Errorf("event %d: fire by %s from %v to %v does not cross the line", e.ID, e.Party, o.Party, i.Party)
		}
		if r, ok := maxRange[e.Weapon]; ok && geo.Distance(*e.Origin, e.Point) > r {
			t.Errorf("event %d: %s fired over %.0f m, more than %.0f", e.ID, e.Weapon, geo.Distance(*e.Origin, e.Point), r)
		}
	}
}

func TestConfig(t *testing.T) {
	a := load(t)
	sc, err := sim.Generate(a, sim.Config{Seed: 3, Start: day, Hours: 6, Surge: []string{"pokrovsk"}})
	if err != nil {
		t.Fatal(err)
	}
	end := day.Add(6 * time.Hour)
	for _, e := range sc.Truth {
		if e.Time.Before(day) || !e.Time.Before(end) {
			t.Errorf("event %d at %v, outside [%v, %v)", e.ID, e.Time, day, end)
		}
	}
	if _, err := sim.Generate(a, sim.Config{Surge: []string{"nowhere"}}); err == nil {
		t.Errorf("a surge in an unknown sector: got no error")
	}
}

func BenchmarkGenerate24h(b *testing.B) {
	a := load(b)
	for i := 0; b.Loop(); i++ {
		if _, err := sim.Generate(a, sim.Config{Seed: uint64(i), Start: day}); err != nil {
			b.Fatal(err)
		}
	}
}
