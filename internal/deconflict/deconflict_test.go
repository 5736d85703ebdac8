package deconflict_test

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/deconflict"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// The test agreement: a straight line of contact along 37.5E from 46N to
// 50N (UA west, RU east), a 30 km keep-out band on both sides, a no-fly
// area around 47N 33E, a maritime area around 46.4N 31E, the default
// margins and three caveats: DEU flies only, FRA stays within a box
// 47.5-49.5N 29-33E, ITA keeps out of a box around 48.5N 34E.
var (
	t0      = time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)
	base    = geo.Pt(48, 31.5) // far from every zone, inside FRA's box
	noFlyC  = geo.Pt(47, 33)
	seaC    = geo.Pt(46.4, 31)
	italyC  = geo.Pt(48.5, 34)
	lineLon = 37.5
)

func box(t testing.TB, lat0, lon0, lat1, lon1 float64) *geo.Region {
	t.Helper()
	r, err := geo.NewRegion(geo.MultiPolygon{{{geo.Pt(lat0, lon0), geo.Pt(lat0, lon1), geo.Pt(lat1, lon1), geo.Pt(lat1, lon0)}}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func testAgreement(t testing.TB, equalOverlap bool) *truce.Agreement {
	t.Helper()
	line, err := geo.NewLine([][]geo.Point{{geo.Pt(46, lineLon), geo.Pt(50, lineLon)}})
	if err != nil {
		t.Fatal(err)
	}
	margins := map[truce.Domain]truce.Margin{}
	maps.Copy(margins, agreement.DefaultMargins)
	return &truce.Agreement{
		ID:      "test",
		Parties: []truce.Party{{ID: "UA", LineSide: geo.Left}, {ID: "RU", LineSide: geo.Right}},
		Line:    line,
		Zones: []truce.Zone{
			{ID: "ko", Kind: truce.ZoneKeepOut, Distance: map[truce.PartyID]float64{"UA": 30e3, "RU": 30e3}},
			{ID: "nofly", Kind: truce.ZoneNoFly, Area: box(t, noFlyC.Lat-0.2, noFlyC.Lon-0.3, noFlyC.Lat+0.2, noFlyC.Lon+0.3)},
			{ID: "sea", Kind: truce.ZoneMaritime, Area: box(t, seaC.Lat-0.2, seaC.Lon-0.3, seaC.Lat+0.2, seaC.Lon+0.3)},
		},
		Coalition: truce.Coalition{
			Margins:              margins,
			EqualPriorityOverlap: equalOverlap,
			Caveats: []truce.Caveat{
				{Nation: "DEU", Name: "DEU air only", Domains: []truce.Domain{truce.DomainAir}},
				{Nation: "FRA", Name: "FRA box", Within: box(t, 47.5, 29, 49.5, 33)},
				{Nation: "ITA", Name: "ITA not east", Outside: box(t, italyC.Lat-0.2, italyC.Lon-0.3, italyC.Lat+0.2, italyC.Lon+0.3)},
			},
		},
	}
}

func at(h, m int) time.Time { return t0.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }

func circle(c geo.Point, r, minAlt, maxAlt float64, from, until time.Time) truce.Volume {
	return truce.Volume{Footprint: truce.Footprint{Circle: &geo.Cap{Center: c, Radius: r}}, MinAlt: minAlt, MaxAlt: maxAlt,
		Period: truce.TimeRange{From: from, Until: until}}
}

func act(id string, nation truce.NationID, dom truce.Domain, prio int, vols ...truce.Volume) truce.Activity {
	return truce.Activity{ID: id, Nation: nation, Unit: "unit-" + id, Domain: dom, Kind: truce.ActivityPatrol, Priority: prio, Volumes: vols}
}

func ok(truce.Activity) error { return nil }

// square returns a square polygon of side 2·half metres centred on c.
func square(c geo.Point, half float64) geo.Ring {
	var ring geo.Ring
	for _, b := range []float64{45, 135, 225, 315} {
		ring = append(ring, geo.Destination(c, b, half*math.Sqrt2))
	}
	return ring
}

// east returns the point d metres east of c.
func east(c geo.Point, d float64) geo.Point { return geo.Destination(c, 90, d) }

// summary names a conflict for comparison.
func summary(c truce.Conflict) string {
	s := fmt.Sprintf("%d %s %s", c.Volume, c.Kind, c.With)
	if c.Kind == truce.ConflictActivity {
		s += fmt.Sprintf("/%d", c.WithVolume)
	}
	s += " " + c.Rule
	if c.Blocking {
		s += " blocking"
	}
	return s
}

func TestPlannerConflicts(t *testing.T) {
	air := func(c geo.Point, r float64, from, until time.Time) truce.Volume {
		return circle(c, r, 1000, 2000, from, until)
	}
	ground := func(c geo.Point, r float64) truce.Volume { return circle(c, r, 0, 50, at(10, 0), at(11, 0)) }
	corridor := truce.Volume{Footprint: truce.Footprint{Path: []geo.Point{geo.Destination(base, 180, 20e3), geo.Destination(base, 0, 20e3)}, HalfWidth: 200},
		MinAlt: 1000, MaxAlt: 2000, Period: truce.TimeRange{From: at(10, 0), Until: at(11, 0)}}
	poly := truce.Volume{Footprint: truce.Footprint{Polygon: square(base, 5e3)}, MinAlt: 1000, MaxAlt: 2000, Period: truce.TimeRange{From: at(10, 0), Until: at(11, 0)}}
	// Centres r1 + r2 + gap apart, so the gap is known by construction.
	apart := func(gap float64) geo.Point { return east(base, 3e3+2e3+gap) }
	keepOut := func(d float64) geo.Point { return geo.Destination(geo.Pt(48, lineLon), 270, d) }
	for _, tc := range []struct {
		name     string
		equal    bool // EqualPriorityOverlap
		existing []truce.Activity
		plan     truce.Activity
		want     []string
		wantGap  float64 // the activity conflict's Distance; -1: none checked
		state    truce.ActivityState
	}{
		{name: "same place, later beyond the time margin",
			existing: []truce.Activity{act("a", "GBR", truce.DomainAir, 3, air(base, 3e3, at(10, 0), at(11, 0)))},
			plan:     act("p", "POL", truce.DomainAir, 3, air(base, 3e3, at(11, 11), at(12, 0))),
			state:    truce.ActivityAccepted},
		{name: "same place, later within the time margin",
			existing: []truce.Activity{act("a", "GBR", truce.DomainAir, 3, air(base, 3e3, at(10, 0), at(11, 0)))},
			plan:     act("p", "POL", truce.DomainAir, 3, air(base, 3e3, at(11, 9), at(12, 0))),
			want:     []string{"0 activity a/0 equal_priority blocking"}, wantGap: 0, state: truce.ActivityRejected},
		{name: "same place and time, 400 m above",
			existing: []truce.Activity{act("a", "GBR", truce.DomainAir, 3, air(base, 3e3, at(10, 0), at(11, 0)))},
			plan:     act("p", "POL", truce.DomainAir, 3, circle(base, 3e3, 2400, 3000, at(10, 0), at(11, 0))),
			state:    truce.ActivityAccepted},
		{name: "same place and time, 250 m above (inside the vertical margin)",
			existing: []truce.Activity{act("a", "GBR", truce.DomainAir, 3, air(base, 3e3, at(10, 0), at(11, 0)))},
			plan:     act("p", "POL", truce.DomainAir, 3, circle(base, 3e3, 2250, 3000, at(10, 0), at(11, 0))),
			want:     []string{"0 activity a/0 equal_priority blocking"}, wantGap: 0, state: truce.ActivityRejected},
		{name: "corridor across a polygon, no vertex inside",
			existing: []truce.Activity{act("a", "GBR", truce.DomainAir, 3, poly)},
			plan:     act("p", "POL", truce.DomainAir, 2, corridor),
			want:     []string{"0 activity a/0 higher_priority blocking"}, wantGap: 0, state: truce.ActivityRejected},
		{name: "circles 4,990 m apart (margin 5,000 m)",
			existing: []truce.Activity{act("a", "GBR", truce.DomainAir, 3, air(base, 3e3, at(10, 0), at(11, 0)))},
			plan:     act("p", "POL", truce.DomainAir, 3, air(apart(4990), 2e3, at(10, 0), at(11, 0))),
			want:     []string{"0 activity a/0 equal_priority blocking"}, wantGap: 4990, state: truce.ActivityRejected},
		{name: "circles 5,010 m apart (margin 5,000 m)",
			existing: []truce.Activity{act("a", "GBR", truce.DomainAir, 3, air(base, 3e3, at(10, 0), at(11, 0)))},
			plan:     act("p", "POL", truce.DomainAir, 3, air(apart(5010), 2e3, at(10, 0), at(11, 0))),
			state:    truce.ActivityAccepted},
		{name: "higher priority existing",
			existing: []truce.Activity{act("a", "GBR", truce.DomainAir, 5, air(base, 3e3, at(10, 0), at(11, 0)))},
			plan:     act("p", "POL", truce.DomainAir, 4, air(base, 3e3, at(10, 30), at(11, 30))),
			want:     []string{"0 activity a/0 higher_priority blocking"}, wantGap: 0, state: truce.ActivityRejected},
		{name: "equal priority, overlap allowed", equal: true,
			existing: []truce.Activity{act("a", "GBR", truce.DomainAir, 4, air(base, 3e3, at(10, 0), at(11, 0)))},
			plan:     act("p", "POL", truce.DomainAir, 4, air(base, 3e3, at(10, 30), at(11, 30))),
			want:     []string{"0 activity a/0 equal_priority_allowed"}, wantGap: 0, state: truce.ActivityAccepted},
		{name: "lower priority existing",
			existing: []truce.Activity{act("a", "GBR", truce.DomainAir, 1, air(base, 3e3, at(10, 0), at(11, 0)))},
			plan:     act("p", "POL", truce.DomainAir, 4, air(base, 3e3, at(10, 30), at(11, 30))),
			want:     []string{"0 activity a/0 lower_priority"}, wantGap: 0, state: truce.ActivityAccepted},
		{name: "second volume against the other's second volume",
			existing: []truce.Activity{act("a", "GBR", truce.DomainAir, 5, air(east(base, 100e3), 3e3, at(10, 0), at(11, 0)), air(base, 3e3, at(12, 0), at(13, 0)))},
			plan:     act("p", "POL", truce.DomainAir, 4, air(base, 3e3, at(10, 0), at(11, 0)), air(apart(1000), 2e3, at(12, 30), at(14, 0))),
			want:     []string{"1 activity a/1 higher_priority blocking"}, wantGap: 1000, state: truce.ActivityRejected},
		{name: "land 3 km from air: the air margin applies",
			existing: []truce.Activity{act("a", "GBR", truce.DomainLand, 3, ground(base, 3e3))},
			plan:     act("p", "POL", truce.DomainAir, 3, circle(apart(3000), 2e3, 0, 500, at(10, 0), at(11, 0))),
			want:     []string{"0 activity a/0 equal_priority blocking"}, wantGap: 3000, state: truce.ActivityRejected},
		{name: "land 3 km from land: the land margin applies",
			existing: []truce.Activity{act("a", "GBR", truce.DomainLand, 3, ground(base, 3e3))},
			plan:     act("p", "POL", truce.DomainLand, 3, ground(apart(3000), 2e3)),
			state:    truce.ActivityAccepted},
		{name: "sea 1.5 km from land: the sea margin applies",
			existing: []truce.Activity{act("a", "GBR", truce.DomainLand, 3, ground(base, 3e3))},
			plan:     act("p", "POL", truce.DomainSea, 3, ground(apart(1500), 2e3)),
			want:     []string{"0 activity a/0 equal_priority blocking"}, wantGap: 1500, state: truce.ActivityRejected},
		{name: "20 km from the line: in the keep-out band",
			plan: act("p", "POL", truce.DomainLand, 3, ground(keepOut(20e3), 1e3)),
			want: []string{"0 zone ko keep_out blocking"}, state: truce.ActivityRejected},
		{name: "40 km from the line: clear of the band",
			plan:  act("p", "POL", truce.DomainLand, 3, ground(keepOut(40e3), 1e3)),
			state: truce.ActivityAccepted},
		{name: "no-fly, aircraft",
			plan: act("p", "POL", truce.DomainAir, 3, air(noFlyC, 1e3, at(10, 0), at(11, 0))),
			want: []string{"0 zone nofly no_fly blocking"}, state: truce.ActivityRejected},
		{name: "no-fly, land unit",
			plan:  act("p", "POL", truce.DomainLand, 3, ground(noFlyC, 1e3)),
			state: truce.ActivityAccepted},
		{name: "maritime, vessel",
			plan: act("p", "POL", truce.DomainSea, 3, ground(seaC, 1e3)),
			want: []string{"0 zone sea maritime blocking"}, state: truce.ActivityRejected},
		{name: "maritime, aircraft",
			plan:  act("p", "POL", truce.DomainAir, 3, air(seaC, 1e3, at(10, 0), at(11, 0))),
			state: truce.ActivityAccepted},
		{name: "caveat: DEU on land",
			plan: act("p", "DEU", truce.DomainLand, 3, ground(base, 1e3)),
			want: []string{"0 caveat DEU air only domain blocking"}, state: truce.ActivityRejected},
		{name: "caveat: DEU in the air",
			plan:  act("p", "DEU", truce.DomainAir, 3, air(base, 1e3, at(10, 0), at(11, 0))),
			state: truce.ActivityAccepted},
		{name: "caveat: FRA inside its box",
			plan:  act("p", "FRA", truce.DomainLand, 3, ground(base, 1e3)),
			state: truce.ActivityAccepted},
		{name: "caveat: FRA across its box's edge",
			plan: act("p", "FRA", truce.DomainLand, 3, ground(geo.Pt(48, 33), 1e3)),
			want: []string{"0 caveat FRA box outside_permitted_region blocking"}, state: truce.ActivityRejected},
		{name: "caveat: FRA outside its box",
			plan: act("p", "FRA", truce.DomainLand, 3, ground(geo.Pt(47, 31), 1e3)),
			want: []string{"0 caveat FRA box outside_permitted_region blocking"}, state: truce.ActivityRejected},
		{name: "caveat: ITA reaching into its forbidden box",
			plan: act("p", "ITA", truce.DomainLand, 3, ground(geo.Destination(geo.Pt(italyC.Lat+0.2, italyC.Lon), 0, 500), 1e3)),
			want: []string{"0 caveat ITA not east inside_forbidden_region blocking"}, state: truce.ActivityRejected},
		{name: "caveat: ITA clear of its forbidden box",
			plan:  act("p", "ITA", truce.DomainLand, 3, ground(base, 1e3)),
			state: truce.ActivityAccepted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			agr := testAgreement(t, tc.equal)
			p := deconflict.NewPlanner(agr, deconflict.IndexOptions{})
			for _, e := range tc.existing {
				got, err := p.Propose(e, ok)
				if err != nil || got.State != truce.ActivityAccepted {
					t.Fatalf("propose %s: got %s, %v; want accepted", e.ID, got.State, err)
				}
			}
			reserved := p.Reserved()
			checked, err := p.Check(&tc.plan)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Propose(tc.plan, ok)
			if err != nil {
				t.Fatal(err)
			}
			var sums []string
			for _, c := range got.Conflicts {
				sums = append(sums, summary(c))
			}
			if !slices.Equal(sums, tc.want) {
				t.Fatalf("conflicts:\n got %q\nwant %q", sums, tc.want)
			}
			if len(checked) != len(got.Conflicts) {
				t.Errorf("Check found %d conflicts, Propose %d", len(checked), len(got.Conflicts))
			}
			if got.State != tc.state {
				t.Errorf("state %s, want %s", got.State, tc.state)
			}
			if got.Version != 1 {
				t.Errorf("version %d, want 1", got.Version)
			}
			wantReserved := reserved
			if tc.state == truce.ActivityAccepted {
				wantReserved += len(tc.plan.Volumes)
			}
			if p.Reserved() != wantReserved {
				t.Errorf("Reserved() = %d, want %d", p.Reserved(), wantReserved)
			}
			for _, c := range got.Conflicts {
				checkConflict(t, agr, tc.plan, tc.existing, c, tc.wantGap)
			}
		})
	}
}

// checkConflict checks a conflict's geometry, time and band.
func checkConflict(t *testing.T, agr *truce.Agreement, plan truce.Activity, existing []truce.Activity, c truce.Conflict, wantGap float64) {
	t.Helper()
	pv := plan.Volumes[c.Volume]
	vol, err := deconflict.Compile(pv)
	if err != nil {
		t.Fatal(err)
	}
	if d := vol.Shape.DistanceTo(c.Where); d > 5 {
		t.Errorf("%s: Where %v lies %.1f m outside the plan's footprint", summary(c), c.Where, d)
	}
	if c.MinAlt > c.MaxAlt {
		t.Errorf("%s: band %g..%g is empty", summary(c), c.MinAlt, c.MaxAlt)
	}
	if c.Kind != truce.ConflictActivity {
		if c.When != pv.Period {
			t.Errorf("%s: When %v, want the volume's period %v", summary(c), c.When, pv.Period)
		}
		return
	}
	i := slices.IndexFunc(existing, func(a truce.Activity) bool { return a.ID == c.With })
	if i < 0 {
		t.Fatalf("%s: no such activity", summary(c))
	}
	other := existing[i]
	ov := other.Volumes[c.WithVolume]
	m := agr.Coalition.Margin(plan.Domain, other.Domain)
	if wantGap >= 0 && math.Abs(c.Distance-wantGap) > 0.5 {
		t.Errorf("%s: Distance %.2f m, want %.2f m", summary(c), c.Distance, wantGap)
	}
	// The gap is also the distance from Where to the other footprint.
	if o, err := deconflict.Compile(ov); err != nil {
		t.Fatal(err)
	} else if d := o.Shape.DistanceTo(c.Where); math.Abs(d-c.Distance) > 5 {
		t.Errorf("%s: Where lies %.1f m from the other footprint, Distance %.1f m", summary(c), d, c.Distance)
	}
	if !c.When.From.Before(c.When.Until) {
		t.Errorf("%s: When %v is empty", summary(c), c.When)
	}
	for _, p := range []truce.TimeRange{pv.Period, ov.Period} {
		if c.When.From.Before(p.From.Add(-m.Time)) || c.When.Until.After(p.Until.Add(m.Time)) {
			t.Errorf("%s: When %v not inside %v widened by %s", summary(c), c.When, p, m.Time)
		}
	}
	for _, v := range []truce.Volume{pv, ov} {
		if c.MinAlt < v.MinAlt-m.Vertical || c.MaxAlt > v.MaxAlt+m.Vertical {
			t.Errorf("%s: band %g..%g not inside %g..%g widened by %g", summary(c), c.MinAlt, c.MaxAlt, v.MinAlt, v.MaxAlt, m.Vertical)
		}
	}
}

func TestPlannerReleases(t *testing.T) {
	agr := testAgreement(t, false)
	vol := circle(base, 3e3, 1000, 2000, at(10, 0), at(11, 0))
	for _, tc := range []struct {
		name    string
		actions []truce.ActivityState
	}{
		{"cancelled", []truce.ActivityState{truce.ActivityCancelled}},
		{"ended", []truce.ActivityState{truce.ActivityActive, truce.ActivityEnded}},
		{"cancelled while active", []truce.ActivityState{truce.ActivityActive, truce.ActivityCancelled}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := deconflict.NewPlanner(agr, deconflict.IndexOptions{})
			a, err := p.Propose(act("a", "GBR", truce.DomainAir, 5, vol), ok)
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := p.Propose(act("b", "POL", truce.DomainAir, 3, vol), ok); b.State != truce.ActivityRejected {
				t.Fatalf("b: got %s, want rejected while a holds the volume", b.State)
			}
			for _, to := range tc.actions {
				if a, err = p.Transition("a", a.Version, to, ok); err != nil {
					t.Fatal(err)
				}
			}
			if p.Reserved() != 0 {
				t.Errorf("Reserved() = %d, want 0", p.Reserved())
			}
			c, err := p.Propose(act("c", "POL", truce.DomainAir, 3, vol), ok)
			if err != nil || c.State != truce.ActivityAccepted || len(c.Conflicts) != 0 {
				t.Fatalf("c: got %s %v, %v; want accepted without conflicts", c.State, c.Conflicts, err)
			}
		})
	}
}

func TestPlannerRejectedReservesNothing(t *testing.T) {
	p := deconflict.NewPlanner(testAgreement(t, false), deconflict.IndexOptions{})
	// a at base; r spans base and 40 km east; c sits 40 km east, far from a.
	if _, err := p.Propose(act("a", "GBR", truce.DomainAir, 5, circle(base, 3e3, 1000, 2000, at(10, 0), at(11, 0))), ok); err != nil {
		t.Fatal(err)
	}
	wide := truce.Volume{Footprint: truce.Footprint{Path: []geo.Point{base, east(base, 40e3)}, HalfWidth: 1e3}, MinAlt: 1000, MaxAlt: 2000,
		Period: truce.TimeRange{From: at(10, 0), Until: at(11, 0)}}
	r, err := p.Propose(act("r", "POL", truce.DomainAir, 3, wide), ok)
	if err != nil || r.State != truce.ActivityRejected {
		t.Fatalf("r: got %s, %v; want rejected", r.State, err)
	}
	if p.Reserved() != 1 {
		t.Fatalf("Reserved() = %d, want 1 (a only)", p.Reserved())
	}
	c, err := p.Propose(act("c", "NLD", truce.DomainAir, 1, circle(east(base, 40e3), 2e3, 1000, 2000, at(10, 0), at(11, 0))), ok)
	if err != nil || c.State != truce.ActivityAccepted || len(c.Conflicts) != 0 {
		t.Fatalf("c: got %s %v, %v; want accepted with no conflicts", c.State, c.Conflicts, err)
	}
}

func TestPlannerRevise(t *testing.T) {
	p := deconflict.NewPlanner(testAgreement(t, false), deconflict.IndexOptions{})
	a, err := p.Propose(act("a", "GBR", truce.DomainAir, 3, circle(base, 3e3, 1000, 2000, at(10, 0), at(11, 0))), ok)
	if err != nil {
		t.Fatal(err)
	}
	first := act("a", "GBR", truce.DomainAir, 3, circle(east(base, 50e3), 3e3, 1000, 2000, at(10, 0), at(11, 0)))
	second := act("a", "GBR", truce.DomainAir, 3, circle(east(base, 90e3), 3e3, 1000, 2000, at(10, 0), at(11, 0)))
	r1, err := p.Revise(first, a.Version, ok)
	if err != nil || r1.Version != 2 || r1.State != truce.ActivityAccepted {
		t.Fatalf("first revision: got version %d %s, %v; want version 2 accepted", r1.Version, r1.State, err)
	}
	_, err = p.Revise(second, a.Version, ok) // the same, now stale, version
	if !errors.Is(err, truce.ErrConflict) || !errors.Is(err, deconflict.ErrStale) {
		t.Fatalf("second revision against version %d: got %v, want ErrStale (ErrConflict)", a.Version, err)
	}
	got, _ := p.Activity("a")
	if got.Version != 2 || got.Volumes[0].Footprint.Circle.Center != first.Volumes[0].Footprint.Circle.Center {
		t.Fatalf("after the stale revision: version %d at %v, want version 2 at %v", got.Version, got.Volumes[0].Footprint.Circle.Center, first.Volumes[0].Footprint.Circle.Center)
	}
	// The revision moved the reservation: base is free again.
	if b, _ := p.Propose(act("b", "POL", truce.DomainAir, 3, circle(base, 3e3, 1000, 2000, at(10, 0), at(11, 0))), ok); b.State != truce.ActivityAccepted {
		t.Fatalf("b at a's old place: got %s %v, want accepted", b.State, b.Conflicts)
	}
	// Another nation may not revise it.
	other := first
	other.Nation = "POL"
	if _, err := p.Revise(other, 2, ok); !errors.Is(err, truce.ErrConflict) {
		t.Fatalf("revision by another nation: got %v, want ErrConflict", err)
	}
	if _, err := p.Revise(act("zz", "GBR", truce.DomainAir, 3, first.Volumes...), 1, ok); !errors.Is(err, truce.ErrNotFound) {
		t.Fatalf("revision of an unknown activity: got %v, want ErrNotFound", err)
	}
}

func TestPlannerTransitions(t *testing.T) {
	agr := testAgreement(t, false)
	vol := circle(base, 3e3, 1000, 2000, at(10, 0), at(11, 0))
	for _, tc := range []struct {
		name  string
		setup []truce.ActivityState // actions before the one tested
		nonc  bool                  // make it nonconforming first
		to    truce.ActivityState
		ok    bool
		isErr error
	}{
		{"accepted to active", nil, false, truce.ActivityActive, true, nil},
		{"accepted to ended", nil, false, truce.ActivityEnded, false, deconflict.ErrTransition},
		{"accepted to cancelled", nil, false, truce.ActivityCancelled, true, nil},
		{"active to active", []truce.ActivityState{truce.ActivityActive}, false, truce.ActivityActive, false, deconflict.ErrTransition},
		{"active to ended", []truce.ActivityState{truce.ActivityActive}, false, truce.ActivityEnded, true, nil},
		{"nonconforming to ended", []truce.ActivityState{truce.ActivityActive}, true, truce.ActivityEnded, true, nil},
		{"nonconforming to active", []truce.ActivityState{truce.ActivityActive}, true, truce.ActivityActive, false, deconflict.ErrTransition},
		{"ended to cancelled", []truce.ActivityState{truce.ActivityActive, truce.ActivityEnded}, false, truce.ActivityCancelled, false, deconflict.ErrTransition},
		{"cancelled to active", []truce.ActivityState{truce.ActivityCancelled}, false, truce.ActivityActive, false, deconflict.ErrTransition},
		{"to accepted", nil, false, truce.ActivityAccepted, false, truce.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := deconflict.NewPlanner(agr, deconflict.IndexOptions{})
			a, err := p.Propose(act("a", "GBR", truce.DomainAir, 3, vol), ok)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.setup {
				if a, err = p.Transition("a", a.Version, s, ok); err != nil {
					t.Fatal(err)
				}
			}
			if tc.nonc {
				var changed bool
				if a, changed, err = p.SetConformance("a", false, ok); err != nil || !changed || a.State != truce.ActivityNonconforming {
					t.Fatalf("SetConformance: got %s %v, %v; want nonconforming", a.State, changed, err)
				}
			}
			before := a
			got, err := p.Transition("a", a.Version, tc.to, ok)
			now, _ := p.Activity("a")
			if tc.ok {
				if err != nil || got.State != tc.to || got.Version != before.Version+1 || now.Version != got.Version || now.State != tc.to {
					t.Fatalf("got %s v%d (held %s v%d), %v; want %s v%d", got.State, got.Version, now.State, now.Version, err, tc.to, before.Version+1)
				}
				return
			}
			if !errors.Is(err, tc.isErr) {
				t.Fatalf("got %v, want %v", err, tc.isErr)
			}
			if now.State != before.State || now.Version != before.Version {
				t.Fatalf("after a refused transition: %s v%d, want %s v%d", now.State, now.Version, before.State, before.Version)
			}
		})
	}
	t.Run("stale version", func(t *testing.T) {
		p := deconflict.NewPlanner(agr, deconflict.IndexOptions{})
		a, _ := p.Propose(act("a", "GBR", truce.DomainAir, 3, vol), ok)
		if _, err := p.Transition("a", a.Version, truce.ActivityActive, ok); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Transition("a", a.Version, truce.ActivityEnded, ok); !errors.Is(err, deconflict.ErrStale) {
			t.Fatalf("got %v, want ErrStale", err)
		}
	})
}

func TestPlannerCommitFailure(t *testing.T) {
	agr := testAgreement(t, false)
	vol := circle(base, 3e3, 1000, 2000, at(10, 0), at(11, 0))
	boom := errors.New("journal full")
	fail := func(truce.Activity) error { return boom }

	p := deconflict.NewPlanner(agr, deconflict.IndexOptions{})
	if _, err := p.Propose(act("a", "GBR", truce.DomainAir, 3, vol), fail); !errors.Is(err, boom) {
		t.Fatalf("Propose: got %v, want %v", err, boom)
	}
	if _, found := p.Activity("a"); found || p.Reserved() != 0 {
		t.Fatalf("after a failed commit: activity found %v, Reserved() = %d; want nothing", found, p.Reserved())
	}
	a, err := p.Propose(act("a", "GBR", truce.DomainAir, 3, vol), ok)
	if err != nil {
		t.Fatal(err)
	}
	moved := act("a", "GBR", truce.DomainAir, 3, circle(east(base, 50e3), 3e3, 1000, 2000, at(10, 0), at(11, 0)))
	if _, err := p.Revise(moved, a.Version, fail); !errors.Is(err, boom) {
		t.Fatalf("Revise: got %v, want %v", err, boom)
	}
	if _, err := p.Transition("a", a.Version, truce.ActivityCancelled, fail); !errors.Is(err, boom) {
		t.Fatalf("Transition: got %v, want %v", err, boom)
	}
	now, _ := p.Activity("a")
	if now.Version != a.Version || now.State != a.State || now.Volumes[0].Footprint.Circle.Center != base {
		t.Fatalf("after failed commits: %s v%d at %v, want %s v%d at %v", now.State, now.Version, now.Volumes[0].Footprint.Circle.Center, a.State, a.Version, base)
	}
	// a still holds base.
	if b, _ := p.Propose(act("b", "POL", truce.DomainAir, 3, vol), ok); b.State != truce.ActivityRejected {
		t.Fatalf("b at base: got %s, want rejected", b.State)
	}
}

func TestValidateFields(t *testing.T) {
	good := func() truce.Activity {
		return act("v", "GBR", truce.DomainAir, 3,
			circle(base, 3e3, 1000, 2000, at(10, 0), at(11, 0)),
			circle(base, 3e3, 1000, 2000, at(11, 0), at(12, 0)))
	}
	if _, err := deconflict.Validate(ptr(good())); err != nil {
		t.Fatalf("the base plan: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(a *truce.Activity)
		field  string
		reason string // part of the reason
	}{
		{"period reversed", func(a *truce.Activity) { a.Volumes[1].Period.Until = at(10, 0) }, "volumes[1].period", "is not after from"},
		{"period missing", func(a *truce.Activity) { a.Volumes[1].Period.From = time.Time{} }, "volumes[1].period", "needs both from and until"},
		{"period too long", func(a *truce.Activity) { a.Volumes[0].Period.Until = at(24*15, 0) }, "volumes[0].period", "longer than"},
		{"no footprint", func(a *truce.Activity) { a.Volumes[0].Footprint = truce.Footprint{} }, "volumes[0].footprint", "must be exactly one of polygon, circle or corridor, not 0"},
		{"two footprints", func(a *truce.Activity) { a.Volumes[0].Footprint.Path = []geo.Point{base, east(base, 1e3)} }, "volumes[0].footprint", "not 2"},
		{"zero radius", func(a *truce.Activity) { a.Volumes[0].Footprint.Circle = &geo.Cap{Center: base} }, "volumes[0].footprint", "radius 0 m"},
		{"self-crossing polygon", func(a *truce.Activity) {
			a.Volumes[0].Footprint = truce.Footprint{Polygon: geo.Ring{geo.Pt(48, 31), geo.Pt(48.1, 31.1), geo.Pt(48, 31.1), geo.Pt(48.1, 31)}}
		}, "volumes[0].footprint", "cross"},
		{"altitude upside down", func(a *truce.Activity) { a.Volumes[0].MinAlt = 3000 }, "volumes[0].altitude", "lowest first"},
		{"priority", func(a *truce.Activity) { a.Priority = 101 }, "priority", "must be between 0 and 100, not 101"},
		{"nation", func(a *truce.Activity) { a.Nation = "" }, "nation", "is not a nation id"},
		{"unit", func(a *truce.Activity) { a.Unit = " x" }, "unit", "without surrounding spaces"},
		{"domain", func(a *truce.Activity) { a.Domain = "space" }, "domain", "space"},
		{"kind", func(a *truce.Activity) { a.Kind = "party" }, "kind", "party"},
		{"no volumes", func(a *truce.Activity) { a.Volumes = nil }, "volumes", "must hold 1 to 100 volumes, not 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := good()
			tc.change(&a)
			_, err := deconflict.Validate(&a)
			if !errors.Is(err, truce.ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
			var ve *truce.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %T, want a *truce.ValidationError inside", err)
			}
			if ve.Field != tc.field || !strings.Contains(ve.Reason, tc.reason) {
				t.Fatalf("got field %q reason %q, want field %q reason containing %q", ve.Field, ve.Reason, tc.field, tc.reason)
			}
			if !strings.Contains(err.Error(), "activity v."+tc.field+": ") {
				t.Fatalf("message %q does not name %q", err, "activity v."+tc.field)
			}
			// Proposing it fails the same way and records nothing.
			p := deconflict.NewPlanner(testAgreement(t, false), deconflict.IndexOptions{})
			if _, err := p.Propose(a, ok); !errors.Is(err, truce.ErrInvalid) {
				t.Fatalf("Propose: got %v, want ErrInvalid", err)
			}
			if _, found := p.Activity("v"); found {
				t.Fatal("an invalid plan was recorded")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// nearRef is the test's own predicate: two volumes come within the margins
// of their domains in time (half-open periods), altitude and space.
func nearRef(c *truce.Coalition, a, b *deconflict.Vol) bool {
	m := c.Margin(a.Domain, b.Domain)
	dt := m.Time.Microseconds()
	if !(a.From < b.Until+dt && b.From < a.Until+dt) {
		return false
	}
	if a.MinAlt > b.MaxAlt+m.Vertical || b.MinAlt > a.MaxAlt+m.Vertical {
		return false
	}
	return a.Shape.Within(b.Shape, m.Horizontal)
}

func genVols(t *testing.T, seed uint64, n int, area geo.Rect) []deconflict.Vol {
	t.Helper()
	acts := deconflict.Gen(deconflict.GenOptions{Seed: seed, Activities: n, Area: area, Start: t0, Span: 6 * time.Hour})
	vols := make([]deconflict.Vol, n)
	for i := range acts {
		vs, err := deconflict.Validate(&acts[i])
		if err != nil {
			t.Fatal(err)
		}
		vols[i] = vs[0]
		vols[i].Owner = int32(i)
	}
	return vols
}

func TestIndexAgainstBruteForce(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 500
	}
	c := &testAgreement(t, false).Coalition
	area := geo.Rect{MinLat: 47, MinLon: 30, MaxLat: 48.5, MaxLon: 32}
	vols := genVols(t, 42, n, area)
	x := deconflict.NewIndex(c, deconflict.IndexOptions{})
	owner := map[uint32]int32{}
	held := map[int32]uint32{} // owner -> id
	for _, v := range vols {
		id := x.Add(v)
		owner[id] = v.Owner
		held[v.Owner] = id
	}
	pairsOf := func(ps [][2]uint32) map[[2]int32]int {
		out := map[[2]int32]int{}
		for _, p := range ps {
			a, b := owner[p[0]], owner[p[1]]
			out[[2]int32{min(a, b), max(a, b)}]++
		}
		return out
	}
	brute := func() map[[2]int32]int {
		out := map[[2]int32]int{}
		live := slices.Sorted(maps.Keys(held))
		for i, a := range live {
			for _, b := range live[i+1:] {
				if nearRef(c, &vols[a], &vols[b]) {
					out[[2]int32{a, b}] = 1
				}
			}
		}
		return out
	}
	check := func(stage string) {
		t.Helper()
		if x.Len() != len(held) {
			t.Fatalf("%s: Len() = %d, want %d", stage, x.Len(), len(held))
		}
		got, want := pairsOf(x.Pairs()), brute()
		if len(want) < 50 {
			t.Fatalf("%s: only %d pairs; the test needs more", stage, len(want))
		}
		for p, k := range got {
			if k != 1 {
				t.Errorf("%s: pair %v reported %d times", stage, p, k)
			}
			if want[p] == 0 {
				t.Errorf("%s: Pairs() has %v, brute force does not", stage, p)
			}
		}
		for p := range want {
			if got[p] == 0 {
				t.Errorf("%s: brute force has %v, Pairs() does not", stage, p)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		// Near, for volumes not held.
		qs := genVols(t, 43, 200, area)
		found := 0
		for qi := range qs {
			q := qs[qi]
			q.Owner = -1
			got := map[int32]int{}
			x.Near(&q, func(id uint32, v *deconflict.Vol) bool {
				got[owner[id]]++
				return true
			})
			for o, id := range held {
				want := nearRef(c, &q, &vols[o])
				if k := got[o]; (k > 0) != want || k > 1 {
					t.Fatalf("%s: query %d against %d (id %d): Near reported it %d times, brute force says %v", stage, qi, o, id, k, want)
				}
			}
			found += len(got)
		}
		if found < 20 {
			t.Fatalf("%s: Near found %d volumes over 200 queries; the test needs more", stage, found)
		}
	}
	check("built")
	r := rand.New(rand.NewPCG(1, 2))
	var removed []int32
	for _, o := range r.Perm(n)[:n/4] {
		x.Remove(held[int32(o)])
		delete(held, int32(o))
		removed = append(removed, int32(o))
	}
	check("after removing a quarter")
	for _, o := range removed {
		id := x.Add(vols[o])
		owner[id] = o
		held[o] = id
	}
	check("after adding them back")
}

func TestNearStops(t *testing.T) {
	c := &testAgreement(t, false).Coalition
	x := deconflict.NewIndex(c, deconflict.IndexOptions{})
	for i := range 10 {
		v, err := deconflict.Compile(circle(base, 3e3, 1000, 2000, at(10, 0), at(11, 0)))
		if err != nil {
			t.Fatal(err)
		}
		v.Domain, v.Owner = truce.DomainAir, int32(i)
		x.Add(v)
	}
	q, _ := deconflict.Compile(circle(base, 1e3, 1000, 2000, at(10, 0), at(11, 0)))
	q.Domain, q.Owner = truce.DomainAir, -1
	calls := 0
	x.Near(&q, func(uint32, *deconflict.Vol) bool { calls++; return calls < 3 })
	if calls != 3 {
		t.Fatalf("Near called fn %d times after it returned false on the 3rd, want 3", calls)
	}
}

// TestPlannerConcurrentProposals: plans that overlap each other, filed at
// once, cannot all be accepted: decisions are made one at a time, each
// against those before it.
func TestPlannerConcurrentProposals(t *testing.T) {
	p := deconflict.NewPlanner(testAgreement(t, false), deconflict.IndexOptions{})
	const n = 16
	var wg sync.WaitGroup
	states := make([]truce.ActivityState, n)
	for i := range n {
		wg.Go(func() {
			// The same orbit, a few hundred metres apart: all overlap.
			a := act(fmt.Sprintf("c%02d", i), "GBR", truce.DomainAir, 3,
				circle(east(geo.Pt(48, 31), float64(i)*300), 5000, 5000, 6000, at(8, 0), at(10, 0)))
			got, err := p.Propose(a, ok)
			if err != nil {
				t.Error(err)
				return
			}
			states[i] = got.State
		})
	}
	wg.Wait()
	accepted := 0
	for _, s := range states {
		if s == truce.ActivityAccepted {
			accepted++
		} else if s != truce.ActivityRejected {
			t.Errorf("state %q", s)
		}
	}
	if accepted != 1 || p.Reserved() != 1 {
		t.Errorf("%d of %d overlapping plans accepted, %d volumes reserved; want exactly 1", accepted, n, p.Reserved())
	}
}

// TestReviseUnderWay: an activity under way revised into a conflict is
// refused with the conflicts, and stays as it was.
func TestReviseUnderWay(t *testing.T) {
	p := deconflict.NewPlanner(testAgreement(t, false), deconflict.IndexOptions{})
	a := act("a", "GBR", truce.DomainAir, 2, circle(base, 3000, 5000, 6000, at(8, 0), at(12, 0)))
	b := act("b", "POL", truce.DomainAir, 5, circle(east(base, 30e3), 3000, 5000, 6000, at(8, 0), at(12, 0)))
	for _, x := range []truce.Activity{a, b} {
		if got, err := p.Propose(x, ok); err != nil || got.State != truce.ActivityAccepted {
			t.Fatalf("propose %s: %s %v", x.ID, got.State, err)
		}
	}
	if _, err := p.Transition("a", 1, truce.ActivityActive, ok); err != nil {
		t.Fatal(err)
	}
	moved := act("a", "GBR", truce.DomainAir, 2, circle(east(base, 29e3), 3000, 5000, 6000, at(8, 0), at(12, 0)))
	_, err := p.Revise(moved, 2, ok)
	var refused *deconflict.RefusedError
	if !errors.As(err, &refused) || !errors.Is(err, truce.ErrConflict) {
		t.Fatalf("revise into b: %v, want a RefusedError matching ErrConflict", err)
	}
	if len(refused.Plan.Conflicts) != 1 || refused.Plan.Conflicts[0].With != "b" || refused.Plan.Conflicts[0].Rule != truce.RuleHigherPriority {
		t.Errorf("refused with %+v", refused.Plan.Conflicts)
	}
	if got, _ := p.Activity("a"); got.State != truce.ActivityActive || got.Version != 2 || got.Volumes[0].Footprint.Circle.Center != base {
		t.Errorf("after the refusal a is %s v%d at %v; want active v2 where it was", got.State, got.Version, got.Volumes[0].Footprint.Circle.Center)
	}
}
