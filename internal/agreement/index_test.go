package agreement

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// densified returns a copy of a whose line and control areas have vertices
// at most maxEdge metres apart: the same geometry with many more vertices,
// as a surveyed line of contact has.
func densified(tb testing.TB, a *truce.Agreement, maxEdge float64) *truce.Agreement {
	tb.Helper()
	b := *a
	b.Line = a.Line.Densify(maxEdge)
	b.Parties = slices.Clone(a.Parties)
	for i := range b.Parties {
		if ca := b.Parties[i].ControlArea; ca != nil {
			r, err := geo.NewRegion(ca.Polygons().Densify(maxEdge))
			if err != nil {
				tb.Fatal(err)
			}
			b.Parties[i].ControlArea = r
		}
	}
	return &b
}

// wiggly returns a copy of a whose line and control areas are densified to
// edges of about maxEdge metres, each new vertex pushed up to amp metres
// off the old edge, so that the line has real detail at every scale, as a
// surveyed line has, and does not simplify back to its first vertices.
// Shared edges get identical vertices in both control areas.
func wiggly(tb testing.TB, a *truce.Agreement, maxEdge, amp float64) *truce.Agreement {
	tb.Helper()
	path := func(pts []geo.Point, closed bool) []geo.Point {
		var out []geo.Point
		n := len(pts)
		for i := range n {
			out = append(out, pts[i])
			if i+1 == n && !closed {
				break
			}
			p, q := pts[i], pts[(i+1)%n]
			flip := q.Lat < p.Lat || q.Lat == p.Lat && q.Lon < p.Lon
			if flip { // walk every edge in one canonical direction
				p, q = q, p
			}
			d := geo.Distance(p, q)
			k := int(d / maxEdge)
			b := geo.Bearing(p, q)
			var mid []geo.Point
			for j := 1; j <= k; j++ {
				f := float64(j) / float64(k+1)
				h := uint64(j)*0x9E3779B97F4A7C15 ^ math.Float64bits(p.Lat+q.Lon)
				h ^= h >> 29
				off := (float64(h%2001)/1000 - 1) * amp * math.Sin(math.Pi*f)
				mid = append(mid, geo.Destination(geo.Destination(p, b, f*d), b+90, off))
			}
			if flip {
				slices.Reverse(mid)
			}
			out = append(out, mid...)
		}
		return out
	}
	b := *a
	var parts [][]geo.Point
	for _, part := range a.Line.Parts() {
		parts = append(parts, path(part, false))
	}
	line, err := geo.NewLine(parts)
	if err != nil {
		tb.Fatal(err)
	}
	b.Line = line
	b.Parties = slices.Clone(a.Parties)
	for i := range b.Parties {
		if ca := b.Parties[i].ControlArea; ca != nil {
			var mp geo.MultiPolygon
			for _, poly := range ca.Polygons() {
				var np geo.Polygon
				for _, ring := range poly {
					np = append(np, path(ring, true))
				}
				mp = append(mp, np)
			}
			r, err := geo.NewRegion(mp)
			if err != nil {
				tb.Fatal(err)
			}
			b.Parties[i].ControlArea = r
		}
	}
	return &b
}

// samplePoints returns n points: half spread over the agreement's bounding
// box, half within 40 km of the line, where observations cluster.
func samplePoints(a *truce.Agreement, n int, seed uint64) []geo.Point {
	r := rand.New(rand.NewPCG(seed, 99))
	b := Bound(a).Expand(50e3)
	parts := a.Line.Parts()
	pts := make([]geo.Point, n)
	for i := range pts {
		if i%2 == 0 {
			pts[i] = geo.Pt(b.MinLat+r.Float64()*(b.MaxLat-b.MinLat), b.MinLon+r.Float64()*(b.MaxLon-b.MinLon))
			continue
		}
		part := parts[r.IntN(len(parts))]
		v := part[r.IntN(len(part))]
		pts[i] = geo.Destination(v, r.Float64()*360, r.Float64()*40e3)
	}
	return pts
}

func placeOf(a *truce.Agreement, loc Location) Place {
	p := Place{Side: -1, Sector: -1}
	for i := range a.Parties {
		if loc.Party == &a.Parties[i] {
			p.Side = i
		}
	}
	for i := range a.Sectors {
		if loc.Sector == &a.Sectors[i] {
			p.Sector = i
		}
	}
	for _, z := range loc.Zones {
		for i := range a.Zones {
			if z == &a.Zones[i] {
				p.Zones = append(p.Zones, i)
			}
		}
	}
	return p
}

func checkIndex(t *testing.T, a *truce.Agreement, n int) {
	t.Helper()
	x := NewIndex(a, IndexOptions{})
	for _, p := range samplePoints(a, n, 7) {
		got := x.Classify(p)
		want := placeOf(a, Locate(a, p))
		if got.Side != want.Side || got.Sector != want.Sector || !slices.Equal(got.Zones, want.Zones) {
			t.Fatalf("Classify(%v) = %+v, Locate says %+v", p, *got, want)
		}
	}
	s := x.Stats()
	t.Logf("grid: %d coarse cells, %d split, %d fine cells, %d decided exactly", s.CoarseCells, s.SplitCells, s.FineCells, s.ExactCells)
}

func TestIndexMatchesLocate(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	t.Run("simple", func(t *testing.T) { checkIndex(t, mustLoad(t, simple), n) })
	t.Run("example", func(t *testing.T) { checkIndex(t, mustLoad(t, example), n) })
	t.Run("sides of the line", func(t *testing.T) {
		a := mustLoad(t, variant(t, map[string][]string{"agreement.yaml": {
			"control_area: ua.geojson", "side: right",
			"control_area: ru.geojson", "side: left",
		}}))
		checkIndex(t, a, n)
	})
	t.Run("example densified", func(t *testing.T) {
		if testing.Short() {
			t.Skip("slow in -short mode")
		}
		checkIndex(t, densified(t, mustLoad(t, example), 200), n/4)
	})
	t.Run("example with a wiggly 20,000-vertex line", func(t *testing.T) {
		if testing.Short() {
			t.Skip("slow in -short mode")
		}
		a := wiggly(t, mustLoad(t, example), 36.5, 100)
		t.Logf("line: %d vertices", a.Line.NumVertices())
		checkIndex(t, a, n/4)
	})
}

// Benchmarks of point classification against every zone of the example
// agreement, as the line grows from its 73 vertices to 20,000. Run with
//
//	go test ./internal/agreement -run '^$' -bench Classify -benchmem
func BenchmarkClassify_Example(b *testing.B) { benchmarkClassify(b, 0) }

// BenchmarkClassify_Line20k densifies the line (and the control areas that
// share it) to about 20,000 vertices.
func BenchmarkClassify_Line20k(b *testing.B) { benchmarkClassify(b, 36.5) }

func benchmarkClassify(b *testing.B, maxEdge float64) {
	a := mustLoad(b, example)
	if maxEdge > 0 {
		a = densified(b, a, maxEdge)
	}
	benchmarkClassifyOf(b, a)
}

func benchmarkClassifyOf(b *testing.B, a *truce.Agreement) {
	x := NewIndex(a, IndexOptions{})
	pts := samplePoints(a, 1<<16, 11)
	i := 0
	for b.Loop() {
		x.Classify(pts[i&(len(pts)-1)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(a.Line.NumVertices()), "vertices")
}

// BenchmarkClassify_Wiggly20k densifies the line to about 20,000 vertices
// that wander up to 100 m off the original edges, so that simplification
// cannot undo the densification.
func BenchmarkClassify_Wiggly20k(b *testing.B) {
	benchmarkClassifyOf(b, wiggly(b, mustLoad(b, example), 36.5, 100))
}

// BenchmarkLocate_Example is the exact reference classifier, for scale.
func BenchmarkLocate_Example(b *testing.B) {
	a := mustLoad(b, example)
	pts := samplePoints(a, 1<<12, 11)
	i := 0
	for b.Loop() {
		Locate(a, pts[i&(len(pts)-1)])
		i++
	}
}

// BenchmarkNewIndex measures building the index for the example.
func BenchmarkNewIndex_Example(b *testing.B) {
	a := mustLoad(b, example)
	for b.Loop() {
		NewIndex(a, IndexOptions{})
	}
}

// BenchmarkNewIndex_Line20k measures building the index for the example
// with its line densified to about 20,000 vertices.
func BenchmarkNewIndex_Line20k(b *testing.B) {
	a := densified(b, mustLoad(b, example), 36.5)
	for b.Loop() {
		NewIndex(a, IndexOptions{})
	}
}

// BenchmarkNewIndex_Wiggly20k measures building the index over the wiggly
// 20,000-vertex line.
func BenchmarkNewIndex_Wiggly20k(b *testing.B) {
	a := wiggly(b, mustLoad(b, example), 36.5, 100)
	for b.Loop() {
		NewIndex(a, IndexOptions{})
	}
}
