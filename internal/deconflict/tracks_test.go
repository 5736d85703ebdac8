package deconflict_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/deconflict"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// monitorFor returns a planner and monitor over the test agreement.
func monitorFor(t *testing.T) (*deconflict.Planner, *deconflict.Monitor) {
	t.Helper()
	agr := testAgreement(t, false)
	p := deconflict.NewPlanner(agr, deconflict.IndexOptions{})
	return p, deconflict.NewMonitor(p, agreement.NewIndex(agr, agreement.IndexOptions{}))
}

func pos(unit string, nation truce.NationID, dom truce.Domain, tm time.Time, p geo.Point, alt float64) truce.Position {
	return truce.Position{Unit: unit, Nation: nation, Domain: dom, Time: tm, Point: p, Alt: alt}
}

// kinds lists the alerts as "kind unit [zone|other|activity]".
func kinds(as []truce.TrackAlert) []string {
	var out []string
	for _, a := range as {
		s := string(a.Kind) + " " + a.Unit
		switch a.Kind {
		case truce.AlertKeepOut:
			s += " " + a.Zone
		case truce.AlertProximity:
			s += " " + a.Other
		default:
			s += " " + a.Activity
		}
		out = append(out, s)
	}
	return out
}

type step struct {
	p    truce.Position
	want []string // alert summaries
	dist float64  // the single alert's Distance, when > 0
}

func run(t *testing.T, m *deconflict.Monitor, steps []step) {
	t.Helper()
	for i, s := range steps {
		got := m.Observe([]truce.Position{s.p})
		if g := kinds(got); strings.Join(g, "|") != strings.Join(s.want, "|") {
			t.Fatalf("step %d (%s at %v, %g m): alerts %q, want %q", i, s.p.Unit, s.p.Point, s.p.Alt, g, s.want)
		}
		for _, a := range got {
			if !a.Time.Equal(s.p.Time) || a.Point != s.p.Point || a.Nation != s.p.Nation {
				t.Errorf("step %d: alert %+v does not carry the position's time, point and nation", i, a)
			}
		}
		if s.dist > 0 && math.Abs(got[0].Distance-s.dist) > 1 {
			t.Errorf("step %d: Distance %.1f m, want %.1f m", i, got[0].Distance, s.dist)
		}
	}
}

func TestMonitorConformance(t *testing.T) {
	p, m := monitorFor(t)
	// Unit U flies a 5 km circle at 1,000-2,000 m from 10:00 to 12:00;
	// the air margin is 5 km, 300 m and 10 minutes.
	a, err := p.Propose(truce.Activity{ID: "u1", Nation: "GBR", Unit: "U", Domain: truce.DomainAir, Kind: truce.ActivityFlight, Priority: 3,
		Volumes: []truce.Volume{circle(base, 5e3, 1000, 2000, at(10, 0), at(12, 0))}}, ok)
	if err != nil || a.State != truce.ActivityAccepted {
		t.Fatalf("propose: %s, %v", a.State, err)
	}
	// Accepted but not under way: nothing is judged.
	run(t, m, []step{{p: pos("U", "GBR", truce.DomainAir, at(10, 0), east(base, 30e3), 1500)}})
	if _, err := p.Transition("u1", a.Version, truce.ActivityActive, ok); err != nil {
		t.Fatal(err)
	}
	air := func(min int, d, alt float64) truce.Position {
		return pos("U", "GBR", truce.DomainAir, at(10, min), east(base, d), alt)
	}
	steps := []step{
		{p: air(1, 0, 1500)},   // centre
		{p: air(2, 4e3, 1500)}, // inside
		{p: air(3, 9e3, 1500)}, // 4 km out: within the margin
		{p: air(4, 13e3, 1500), want: []string{"nonconforming U u1"}, dist: 8e3}, // 8 km out
		{p: air(5, 15e3, 1500)}, // still out: no repeat
		{p: air(6, 20e3, 1500)}, // further out: no repeat
		{p: air(7, 2e3, 1500), want: []string{"conforming U u1"}},
		{p: air(8, 2e3, 2250)},                                       // 250 m above: within the margin
		{p: air(9, 2e3, 2400), want: []string{"nonconforming U u1"}}, // 400 m above
		{p: air(10, 2e3, 1800), want: []string{"conforming U u1"}},
		{p: air(5, 40e3, 1500)}, // older than the newest: ignored
		{p: air(11, 0, 1500)},   // still conforming
	}
	run(t, m, steps)
	for _, u := range m.Units() {
		if u.Unit == "U" && !u.Time.Equal(at(10, 11)) {
			t.Errorf("Units(): U at %v, want the newest position's time %v", u.Time, at(10, 11))
		}
	}
	// After it ends, nothing is judged.
	cur, _ := p.Activity("u1")
	if _, err := p.Transition("u1", cur.Version, truce.ActivityEnded, ok); err != nil {
		t.Fatal(err)
	}
	run(t, m, []step{{p: air(12, 40e3, 1500)}})
}

func TestMonitorNoActivity(t *testing.T) {
	_, m := monitorFor(t)
	run(t, m, []step{
		{p: pos("W", "GBR", truce.DomainAir, at(10, 0), base, 1500)},
		{p: pos("W", "GBR", truce.DomainAir, at(10, 1), east(base, 100e3), 9000)},
	})
}

func TestMonitorKeepOut(t *testing.T) {
	west := func(d float64) geo.Point { return geo.Destination(geo.Pt(48, lineLon), 270, d) }
	for _, tc := range []struct {
		name  string
		dom   truce.Domain
		where func(d float64) geo.Point // d: how deep in, metres
		zone  string
		alert bool
	}{
		{"keep-out band, land", truce.DomainLand, func(d float64) geo.Point { return west(30e3 - d) }, "ko", true},
		{"keep-out band, air", truce.DomainAir, func(d float64) geo.Point { return west(30e3 - d) }, "ko", true},
		{"no-fly, air", truce.DomainAir, func(d float64) geo.Point { return geo.Destination(geo.Pt(noFlyC.Lat, noFlyC.Lon-0.3), 90, d) }, "nofly", true},
		{"no-fly, land", truce.DomainLand, func(d float64) geo.Point { return geo.Destination(geo.Pt(noFlyC.Lat, noFlyC.Lon-0.3), 90, d) }, "nofly", false},
		{"maritime, sea", truce.DomainSea, func(d float64) geo.Point { return geo.Destination(geo.Pt(seaC.Lat, seaC.Lon-0.3), 90, d) }, "sea", true},
		{"maritime, air", truce.DomainAir, func(d float64) geo.Point { return geo.Destination(geo.Pt(seaC.Lat, seaC.Lon-0.3), 90, d) }, "sea", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, m := monitorFor(t)
			var in []string
			if tc.alert {
				in = []string{"keep_out K " + tc.zone}
			}
			p := func(min int, depth float64) truce.Position {
				return pos("K", "GBR", tc.dom, at(10, min), tc.where(depth), 500)
			}
			run(t, m, []step{
				{p: p(0, -10e3)},         // 10 km short
				{p: p(1, 5e3), want: in}, // 5 km in
				{p: p(2, 10e3)},          // deeper: no repeat
				{p: p(3, 2e3)},           // still in
				{p: p(4, -5e3)},          // out
				{p: p(5, 3e3), want: in}, // in again: a new alert
			})
		})
	}
}

func TestMonitorProximity(t *testing.T) {
	_, m := monitorFor(t)
	// A (GBR) flies east along 48N; B (POL) keeps a set distance north
	// of it.
	type pair struct {
		d, dalt float64
		want    bool // a proximity alert at this step
	}
	steps := []pair{
		{10e3, 0, false},
		{3e3, 0, true},
		{3.5e3, 0, false}, // still close: no repeat
		{2e3, 0, false},
		{10e3, 0, false}, // apart
		{2e3, 0, true},   // close again
		{8e3, 0, false},
		{1e3, 1000, false}, // 1 km apart but 1,000 m higher
	}
	for i, s := range steps {
		tm := at(10, i)
		pa := east(base, float64(i)*1e3)
		pb := geo.Destination(pa, 0, s.d)
		got := m.Observe([]truce.Position{
			pos("A", "GBR", truce.DomainAir, tm, pa, 1500),
			pos("B", "POL", truce.DomainAir, tm.Add(time.Second), pb, 1500+s.dalt),
		})
		var want []string
		if s.want {
			want = []string{"proximity B A"}
		}
		if g := kinds(got); strings.Join(g, "|") != strings.Join(want, "|") {
			t.Fatalf("step %d (%g m, %g m up): alerts %q, want %q", i, s.d, s.dalt, g, want)
		}
		if s.want && math.Abs(got[0].Distance-s.d) > 1 {
			t.Errorf("step %d: Distance %.1f m, want %.1f m", i, got[0].Distance, s.d)
		}
	}
	// Another GBR aircraft 1 km from A: same nation, no alert.
	got := m.Observe([]truce.Position{pos("C", "GBR", truce.DomainAir, at(10, 10), geo.Destination(east(base, 9e3), 180, 1e3), 1500),
		pos("A", "GBR", truce.DomainAir, at(10, 10), east(base, 9e3), 1500)})
	if len(got) != 0 {
		t.Fatalf("two GBR aircraft 1 km apart: alerts %q, want none", kinds(got))
	}
	// A land unit of another nation beside the aircraft: no alert.
	got = m.Observe([]truce.Position{pos("L", "POL", truce.DomainLand, at(10, 20), base, 0), pos("A", "GBR", truce.DomainAir, at(10, 20), east(base, 500), 100)})
	if len(got) != 0 {
		t.Fatalf("land unit beside an aircraft: alerts %q, want none", kinds(got))
	}
}

func TestValidatePositions(t *testing.T) {
	good := pos("U", "GBR", truce.DomainAir, at(10, 0), base, 1500)
	for _, tc := range []struct {
		name   string
		change func(p *truce.Position)
		want   string // the whole message for positions[1]
	}{
		{"no unit", func(p *truce.Position) { p.Unit = "" }, "positions[1].unit: must be 1 to 200 characters without surrounding spaces"},
		{"spaced unit", func(p *truce.Position) { p.Unit = "U " }, "positions[1] (U ).unit: must be 1 to 200 characters without surrounding spaces"},
		{"nation", func(p *truce.Position) { p.Nation = "G B" }, `positions[1] (U).nation: "G B" is not a nation id`},
		{"time", func(p *truce.Position) { p.Time = time.Time{} }, "positions[1] (U).time: is required"},
		{"latitude", func(p *truce.Position) { p.Point.Lat = 91 }, "positions[1] (U).position: latitude 91 is outside [-90, 90]"},
		{"not a number", func(p *truce.Position) { p.Point.Lon = math.NaN() }, "positions[1] (U).position: coordinate is not a finite number"},
		{"altitude", func(p *truce.Position) { p.Alt = 40000 }, "positions[1] (U).alt_m: 40000 m is outside -1000..30000 m"},
		{"altitude NaN", func(p *truce.Position) { p.Alt = math.NaN() }, "positions[1] (U).alt_m: NaN m is outside -1000..30000 m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := good
			tc.change(&bad)
			err := deconflict.ValidatePositions([]truce.Position{good, bad})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if !errors.Is(err, truce.ErrInvalid) {
				t.Fatalf("got %v, want it to match ErrInvalid", err)
			}
		})
	}
	t.Run("domain", func(t *testing.T) {
		bad := good
		bad.Domain = "space"
		err := deconflict.ValidatePositions([]truce.Position{bad})
		var ve *truce.ValidationError
		if !errors.As(err, &ve) || ve.Field != "domain" || ve.Record != "positions[0] (U)" || !strings.Contains(ve.Reason, "space") {
			t.Fatalf("got %v, want a domain problem naming positions[0] (U) and %q", err, "space")
		}
	})
	t.Run("several", func(t *testing.T) {
		err := deconflict.ValidatePositions([]truce.Position{{}, good})
		var probs truce.Problems
		if !errors.As(err, &probs) || len(probs) != 4 {
			t.Fatalf("got %v, want four problems (unit, nation, domain, time) for an empty position", err)
		}
		for _, p := range probs {
			if p.Record != "positions[0]" {
				t.Errorf("problem %v names %q, want positions[0]", p, p.Record)
			}
		}
	})
	if err := deconflict.ValidatePositions([]truce.Position{good}); err != nil {
		t.Fatalf("a good position: %v", err)
	}
}
