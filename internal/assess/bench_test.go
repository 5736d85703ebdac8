package assess

// Run the benchmarks with
//
//	go test ./internal/assess -run '^$' -bench . -benchmem
//	go test ./internal/assess -run '^$' -bench BenchmarkAssess -cpu 1,2 -benchmem
//
// BenchmarkAssess reports incidents/s over a realistic mix at the example
// agreement (examples/donbas); BenchmarkEscalator reports violations/s
// through Set and Advance.

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// mix builds n incidents near the line of a, from a fixed seed: mostly
// fire (half with a direction of fire, some outgoing fire, a few with a
// known origin), then weapon sightings, military presence, aircraft and
// UAVs, vessels, damage and restrictions, within 60 km of the line.
func mix(tb testing.TB, a *truce.Agreement, n int) []truce.Incident {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var verts []geo.Point
	for _, part := range a.Line.Parts() {
		verts = append(verts, part...)
	}
	weapons := []truce.WeaponClass{"", truce.WeaponSmallArms, truce.WeaponMortar, truce.WeaponArtillery100Plus, truce.WeaponMLRS, truce.WeaponTank, truce.WeaponHeavyMLRS}
	start := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	incs := make([]truce.Incident, n)
	for i := range incs {
		v := verts[rng.IntN(len(verts))]
		p := geo.Destination(v, rng.Float64()*360, rng.Float64()*60e3)
		inc := truce.Incident{
			ID:       fmt.Sprintf("inc-%06d", i),
			Location: p,
			Start:    start.Add(time.Duration(i) * time.Second),
			Weapon:   weapons[rng.IntN(len(weapons))],
			Status:   truce.StatusReported,
		}
		inc.End = inc.Start
		switch r := rng.IntN(100); {
		case r < 30:
			inc.Category = truce.CategoryExplosion
		case r < 50:
			inc.Category = truce.CategoryImpact
		case r < 60:
			inc.Category = truce.CategoryOutgoingFire
		case r < 65:
			inc.Category = truce.CategoryBurst
		case r < 80:
			inc.Category = truce.CategoryWeaponSighting
		case r < 87:
			inc.Category = truce.CategoryMilitaryPresence
		case r < 92:
			inc.Category = truce.CategoryUAV
		case r < 94:
			inc.Category = truce.CategoryVessel
		case r < 98:
			inc.Category = truce.CategoryDamage
		default:
			inc.Category = truce.CategoryRestriction
		}
		if isFire(inc.Category) && rng.IntN(2) == 0 {
			inc.HasFireBearing, inc.FireBearing = true, rng.Float64()*360
		}
		if isFire(inc.Category) && rng.IntN(20) == 0 {
			o := geo.Destination(p, rng.Float64()*360, 10e3)
			inc.Origin = &o
		}
		incs[i] = inc
	}
	return incs
}

func loadExample(tb testing.TB) *truce.Agreement {
	tb.Helper()
	a, err := agreement.Load("../../examples/donbas/agreement.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func BenchmarkAssess(b *testing.B) {
	a := loadExample(b)
	as, err := New(a)
	if err != nil {
		b.Fatal(err)
	}
	incs := mix(b, a, 1<<14)
	windows := []truce.SilenceWindow{{
		ID: "w1", Center: geo.Pt(48.52, 37.69), Radius: 3000, Acknowledged: true,
		Period: truce.TimeRange{From: incs[0].Start, Until: incs[0].Start.Add(48 * time.Hour)},
	}}
	violations := 0
	for _, inc := range incs {
		violations += len(as.Assess(&inc, windows))
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			inc := incs[i%len(incs)]
			as.Assess(&inc, windows)
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "incidents/s")
	b.ReportMetric(float64(violations)/float64(len(incs)), "violations/incident")
}

func BenchmarkEscalator(b *testing.B) {
	a := loadExample(b)
	rng := rand.New(rand.NewPCG(3, 4))
	start := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	const n = 1 << 16
	vs := make([]truce.Violation, n)
	// Mostly low and medium, one every 6 minutes over the line: with the
	// example's thresholds the sectors hover around TENSE and SERIOUS in
	// the 1 h window and climb and fall in the 24 h window.
	sevs := []truce.Severity{truce.SeverityLow, truce.SeverityMedium, truce.SeverityHigh, truce.SeverityCritical}
	for i := range vs {
		r := rng.IntN(100)
		s := 0
		switch {
		case r >= 97:
			s = 3
		case r >= 85:
			s = 2
		case r >= 50:
			s = 1
		}
		vs[i] = truce.Violation{
			Sector:   a.Sectors[rng.IntN(len(a.Sectors))].ID,
			Severity: sevs[s],
			Time:     start.Add(time.Duration(i) * 6 * time.Minute),
		}
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("inc-%06d", i)
	}
	b.ResetTimer()
	e := NewEscalator(a)
	changes := 0
	for i := 0; b.Loop(); i++ {
		k := i % n
		if k == 0 && i > 0 {
			e = NewEscalator(a)
		}
		v := vs[k]
		e.Set(ids[k], []truce.Violation{v})
		if k%64 == 63 {
			changes += len(e.Advance(v.Time))
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "violations/s")
	b.ReportMetric(float64(changes)/float64(b.N), "changes/violation")
}
