package fuse

import (
	"math"
	"testing"

	"github.com/truce-dev/truce/internal/geo"
)

// bearingFix locates an event from observers, each at dist metres from
// the event in direction from (degrees, seen from the event), reporting the
// bearing towards it (computed with geo.Bearing, independently of this
// package's vector code) plus an error, with a distance band of
// [dist−band/2, dist+band/2] shifted by off metres.
type sighting struct {
	from, dist, err float64
}

func bearingFix(t *testing.T, event geo.Point, σ, band, off float64, ss []sighting) solution {
	t.Helper()
	var a acc
	for _, s := range ss {
		o := geo.Destination(event, s.from, s.dist)
		b := math.Mod(geo.Bearing(o, event)+s.err+360, 360)
		c := observerContribution(unit(o), b, σ*math.Pi/180, s.dist+off-band/2, s.dist+off+band/2)
		a.addC(&c, 2)
	}
	return a.solve()
}

func TestLeastSquaresBearings(t *testing.T) {
	event := geo.Pt(48.5, 37.0)
	// Bands 10 km wide (σ 5 km) and 2 km off: against bearing errors of
	// 1° at 7 km (122 m) they weigh (122/5000)² = 0.0006 as much, so they
	// move the fix by about 2000 × 0.0006 ≈ 1 m.
	const σ, band, off = 1.0, 10000.0, 2000.0
	perpendicular := bearingFix(t, event, σ, band, off, []sighting{{270, 5000, 0}, {180, 5000, 0}})
	if d := geo.Distance(pointOf(perpendicular.p), event); d > 5 {
		t.Errorf("perpendicular bearings: got fix %.0f m from the event, want within 5 m", d)
	}
	// Each line is known to σ⊥ = 7000 × 0.01745 = 122 m; crossing at right
	// angles, the fix has σ = 122 m on each axis: CEP = 1.1774 × 122 = 144 m.
	if c := perpendicular.cep; c < 130 || c > 160 {
		t.Errorf("perpendicular bearings: got CEP %.0f m, want about 144 m", c)
	}

	// Nearly parallel: two observers 5 km west of the event, 350 m apart;
	// their bearings differ by 4°: the lines meet at a shallow angle and
	// the along-line error is ill-determined.
	parallel := bearingFix(t, event, σ, band, off, []sighting{{268, 5000, 0}, {272, 5000, 0}})
	if parallel.cep < 5*perpendicular.cep {
		t.Errorf("nearly parallel bearings: got CEP %.0f m, want more than 5 × %.0f m", parallel.cep, perpendicular.cep)
	}

	three := bearingFix(t, event, σ, band, off, []sighting{{270, 5000, 0}, {180, 5000, 0}, {45, 5000, 0}})
	if three.cep >= perpendicular.cep {
		t.Errorf("three agreeing bearings: got CEP %.0f m, want less than two's %.0f m", three.cep, perpendicular.cep)
	}
	if d := geo.Distance(pointOf(three.p), event); d > 5 {
		t.Errorf("three agreeing bearings: got fix %.0f m from the event, want within 5 m", d)
	}

	// The third bearing 8° (8σ) off: the residuals inflate the uncertainty.
	disagree := bearingFix(t, event, σ, band, off, []sighting{{270, 5000, 0}, {180, 5000, 0}, {45, 5000, 8}})
	if disagree.cep <= three.cep || disagree.cep <= perpendicular.cep {
		t.Errorf("three disagreeing bearings: got CEP %.0f m, want more than %.0f m (three agreeing) and %.0f m (two)", disagree.cep, three.cep, perpendicular.cep)
	}
}

func TestLeastSquaresPoints(t *testing.T) {
	tests := []struct {
		name    string
		pts     []geo.Point
		ceps    []float64
		want    geo.Point
		cepLo   float64
		cepHigh float64
	}{
		// one report: its own place and CEP
		{"one", []geo.Point{geo.Pt(48, 37)}, []float64{100}, geo.Pt(48, 37), 99.9, 100.1},
		// two at the same place: CEP/√2 = 70.7 m
		{"two agreeing", []geo.Point{geo.Pt(48, 37), geo.Pt(48, 37)}, []float64{100, 100}, geo.Pt(48, 37), 70.6, 70.8},
		// weights 1/100² and 1/300² (9 : 1), 900 m apart along the meridian
		// (0.008094° of latitude): the fix is 90 m from the first report.
		{"weighted", []geo.Point{geo.Pt(48, 37), geo.Pt(48.008094, 37)}, []float64{100, 300}, geo.Pt(48.0008094, 37), 0, math.Inf(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a acc
			for i, p := range tt.pts {
				c := pointContribution(unit(p), tt.ceps[i])
				a.addC(&c, 2)
			}
			s := a.solve()
			if d := geo.Distance(pointOf(s.p), tt.want); d > 1 {
				t.Errorf("got %v, %.1f m from %v, want within 1 m", pointOf(s.p), d, tt.want)
			}
			if s.cep < tt.cepLo || s.cep > tt.cepHigh {
				t.Errorf("got CEP %.2f m, want in [%g, %g]", s.cep, tt.cepLo, tt.cepHigh)
			}
		})
	}
}

func TestI128(t *testing.T) {
	var a i128
	a.add(math.MaxInt64)
	a.add(math.MaxInt64)
	a.add(-5)
	// 2 × (2⁶³ − 1) − 5 = 2⁶⁴ − 7
	if got, want := a.float(), 0x1p64-7; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	var b i128
	b.add(-3)
	b.addI(a)
	b.add(math.MinInt64 + 1)
	b.add(math.MinInt64 + 1)
	// 2⁶⁴ − 10 − 2⁶⁴ + 2 = −8
	if got := b.float(); got != -8 {
		t.Errorf("got %v, want -8", got)
	}
}
