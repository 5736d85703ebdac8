package geo_test

// These tests check geo.Shape against a reference built on S2's own
// ClosestEdgeQuery over s2.ShapeIndex: a circle's core is an
// s2.PointVector, a corridor's an s2.Polyline, a polygon's an s2.Polygon,
// and polygon interiors are included on both sides of the query (the
// query's IncludeInteriors option for the indexed side; the target built
// by NewMinDistanceToShapeIndexTarget runs its inner query with S2's
// default options, which include interiors). The gap between two shapes is
// then max(0, coreDistance - r1 - r2).

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/golang/geo/s2"

	"github.com/truce-dev/truce/internal/geo"
)

// tolShape is how far, in metres, the shape code may differ from the
// reference.
const tolShape = 0.03

// footprint describes a shape independently of geo.Shape.
type footprint struct {
	kind   string // "circle", "corridor" or "polygon"
	centre geo.Point
	radius float64 // metres: circle radius or corridor half-width; 0 for polygons
	path   []geo.Point
	ring   geo.Ring
}

func (f footprint) String() string {
	switch f.kind {
	case "circle":
		return fmt.Sprintf("circle(%v, %.1f m)", f.centre, f.radius)
	case "corridor":
		return fmt.Sprintf("corridor(%v, %.1f m)", f.path, f.radius)
	}
	return fmt.Sprintf("polygon(%v)", f.ring)
}

func (f footprint) shape(t testing.TB) *geo.Shape {
	t.Helper()
	var s *geo.Shape
	var err error
	switch f.kind {
	case "circle":
		s, err = geo.CircleShape(geo.Cap{Center: f.centre, Radius: f.radius})
	case "corridor":
		s, err = geo.CorridorShape(f.path, f.radius)
	default:
		s, err = geo.PolygonShape(f.ring)
	}
	if err != nil {
		t.Fatalf("%v: %v", f, err)
	}
	return s
}

func s2pt(p geo.Point) s2.Point { return s2.PointFromLatLng(s2.LatLngFromDegrees(p.Lat, p.Lon)) }

// s2polygon builds an S2 polygon from one ring of either winding.
func s2polygon(ring geo.Ring) *s2.Polygon {
	vs := make([]s2.Point, len(ring))
	for i, p := range ring {
		vs[i] = s2pt(p)
	}
	l := s2.LoopFromPoints(vs)
	l.Normalize()
	return s2.PolygonFromLoops([]*s2.Loop{l})
}

// core returns an index holding the footprint's core.
func (f footprint) core() *s2.ShapeIndex {
	idx := s2.NewShapeIndex()
	switch f.kind {
	case "circle":
		pv := s2.PointVector{s2pt(f.centre)}
		idx.Add(&pv)
	case "corridor":
		pl := make(s2.Polyline, len(f.path))
		for i, p := range f.path {
			pl[i] = s2pt(p)
		}
		idx.Add(&pl)
	default:
		idx.Add(s2polygon(f.ring))
	}
	idx.Build()
	return idx
}

// indexDistance is S2's distance in metres between what two indexes hold,
// polygon interiors included.
func indexDistance(a, b *s2.ShapeIndex) float64 {
	q := s2.NewClosestEdgeQuery(a, s2.NewClosestEdgeQueryOptions().IncludeInteriors(true))
	return q.Distance(s2.NewMinDistanceToShapeIndexTarget(b)).Angle().Radians() * geo.EarthRadius
}

func refGap(a, b footprint) float64 {
	return max(0, indexDistance(a.core(), b.core())-a.radius-b.radius)
}

func refDistanceTo(f footprint, p geo.Point) float64 {
	q := s2.NewClosestEdgeQuery(f.core(), s2.NewClosestEdgeQueryOptions().IncludeInteriors(true))
	d := q.Distance(s2.NewMinDistanceToPointTarget(s2pt(p))).Angle().Radians() * geo.EarthRadius
	return max(0, d-f.radius)
}

// randomFootprint draws a circle, corridor or polygon near c, up to about
// 40 km across.
func randomFootprint(r *rand.Rand, c geo.Point, spreadDeg float64) footprint {
	centre := geo.Pt(c.Lat+(r.Float64()*2-1)*spreadDeg, c.Lon+(r.Float64()*2-1)*spreadDeg*1.5)
	switch r.IntN(3) {
	case 0:
		return footprint{kind: "circle", centre: centre, radius: 200 + r.Float64()*20e3}
	case 1:
		n := 2 + r.IntN(5)
		path := []geo.Point{centre}
		b := r.Float64() * 360
		for range n - 1 {
			b += r.Float64()*120 - 60
			path = append(path, geo.Destination(path[len(path)-1], b, 1e3+r.Float64()*15e3))
		}
		return footprint{kind: "corridor", centre: centre, radius: 50 + r.Float64()*5e3, path: path}
	}
	n := 3 + r.IntN(8)
	ring := make(geo.Ring, n)
	rad := 1e3 + r.Float64()*20e3
	for k := range n {
		// A star-shaped ring: vertices at increasing bearings never cross.
		ring[k] = geo.Destination(centre, (360*float64(k)+r.Float64()*300)/float64(n), rad*(0.3+0.7*r.Float64()))
	}
	if r.IntN(2) == 0 { // either winding
		for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
			ring[i], ring[j] = ring[j], ring[i]
		}
	}
	return footprint{kind: "polygon", centre: centre, ring: ring}
}

func TestShapeGapRandom(t *testing.T) {
	for _, tc := range []struct {
		name   string
		centre geo.Point
		spread float64
		pairs  int
	}{
		{"48N30E", geo.Pt(48, 30), 0.4, 2500},
		{"60N30E", geo.Pt(60, 30), 0.3, 1000},
		{"48N30E-close", geo.Pt(48, 30), 0.05, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(tc.pairs)))
			overlaps, apart := 0, 0
			for i := range tc.pairs {
				fa, fb := randomFootprint(r, tc.centre, tc.spread), randomFootprint(r, tc.centre, tc.spread)
				a, b := fa.shape(t), fb.shape(t)
				want := refGap(fa, fb)
				if want == 0 {
					overlaps++
				} else {
					apart++
				}
				got, where := a.Gap(b)
				if math.Abs(got-want) > tolShape {
					t.Fatalf("pair %d: %v.Gap(%v) = %.4f m, want %.4f m", i, fa, fb, got, want)
				}
				if back, _ := b.Gap(a); math.Abs(back-want) > tolShape {
					t.Fatalf("pair %d: %v.Gap(%v) = %.4f m, want %.4f m", i, fb, fa, back, want)
				}
				// The point returned lies in a (within a few cm) and as far
				// from b as the gap.
				if d := refDistanceTo(fa, where); d > tolShape {
					t.Fatalf("pair %d: Gap point %v lies %.4f m outside %v, want inside", i, where, d, fa)
				}
				if d := refDistanceTo(fb, where); math.Abs(d-want) > 0.05 {
					t.Fatalf("pair %d: Gap point %v lies %.4f m from %v, want the gap %.4f m", i, where, d, fb, want)
				}
				// Within, away from the threshold.
				for _, d := range []float64{0, 1000, 5000, r.Float64() * 30e3} {
					if math.Abs(want-d) < 0.05 {
						continue
					}
					if got, want := a.Within(b, d), want <= d; got != want {
						t.Fatalf("pair %d: %v.Within(%v, %g) = %v, want %v", i, fa, fb, d, got, want)
					}
				}
			}
			// The cases must exercise both sides.
			if overlaps < tc.pairs/20 || apart < tc.pairs/20 {
				t.Fatalf("got %d overlapping and %d separate pairs; the test needs both", overlaps, apart)
			}
		})
	}
}

func TestShapeDistanceToRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	c := geo.Pt(48, 30)
	inside, outside := 0, 0
	for i := range 600 {
		f := randomFootprint(r, c, 0.2)
		s := f.shape(t)
		for j := range 10 {
			p := geo.Pt(c.Lat+(r.Float64()*2-1)*0.4, c.Lon+(r.Float64()*2-1)*0.6)
			want := refDistanceTo(f, p)
			got := s.DistanceTo(p)
			if math.Abs(got-want) > tolShape {
				t.Fatalf("shape %d point %d: %v.DistanceTo(%v) = %.4f, want %.4f", i, j, f, p, got, want)
			}
			if math.Abs(want) < 0.05 && want != 0 {
				continue // too close to the edge to call
			}
			if got, want := s.Contains(p), want == 0; got != want {
				t.Fatalf("shape %d point %d: %v.Contains(%v) = %v, want %v", i, j, f, p, got, want)
			}
			if want == 0 {
				inside++
			} else {
				outside++
			}
		}
	}
	if inside < 100 || outside < 100 {
		t.Fatalf("got %d points inside and %d outside; the test needs both", inside, outside)
	}
}

func TestShapeGapEdgeCases(t *testing.T) {
	c := geo.Pt(48, 30)
	square := func(centre geo.Point, half float64) geo.Ring {
		// Corners at half·√2 on the diagonals.
		var ring geo.Ring
		for _, b := range []float64{45, 135, 225, 315} {
			ring = append(ring, geo.Destination(centre, b, half*math.Sqrt2))
		}
		return ring
	}
	d := 30e3
	far := geo.Destination(c, 90, d)
	far60 := geo.Destination(geo.Pt(60, 30), 90, d)
	for _, tc := range []struct {
		name    string
		a, b    footprint
		wantGap float64 // by construction
	}{
		{"circles 1 m apart",
			footprint{kind: "circle", centre: c, radius: 10e3}, footprint{kind: "circle", centre: far, radius: d - 10e3 - 1}, 1},
		{"circles tangent",
			footprint{kind: "circle", centre: c, radius: 10e3}, footprint{kind: "circle", centre: far, radius: d - 10e3}, 0},
		{"circles 1 m overlap",
			footprint{kind: "circle", centre: c, radius: 10e3}, footprint{kind: "circle", centre: far, radius: d - 10e3 + 1}, 0},
		{"circles 1 m apart at 60N",
			footprint{kind: "circle", centre: geo.Pt(60, 30), radius: 10e3}, footprint{kind: "circle", centre: far60, radius: d - 10e3 - 1}, 1},
		{"corridor across a polygon, no vertex inside",
			footprint{kind: "corridor", radius: 1, path: []geo.Point{geo.Destination(c, 200, 20e3), geo.Destination(c, 20, 20e3)}},
			footprint{kind: "polygon", ring: square(c, 5e3)}, 0},
		{"polygon inside a polygon",
			footprint{kind: "polygon", ring: square(c, 1e3)}, footprint{kind: "polygon", ring: square(c, 10e3)}, 0},
		{"point core inside a polygon",
			footprint{kind: "circle", centre: geo.Destination(c, 10, 3e3), radius: 1}, footprint{kind: "polygon", ring: square(c, 10e3)}, 0},
		{"corridor inside a polygon",
			footprint{kind: "corridor", radius: 10, path: []geo.Point{geo.Destination(c, 0, 2e3), geo.Destination(c, 180, 2e3)}},
			footprint{kind: "polygon", ring: square(c, 10e3)}, 0},
		{"circle 2 km east of a polygon at 60N",
			footprint{kind: "circle", centre: geo.Destination(geo.Pt(60, 30), 90, 7e3), radius: 500},
			footprint{kind: "polygon", ring: geo.Ring{geo.Destination(geo.Pt(60, 30), 0, 5e3), geo.Destination(geo.Destination(geo.Pt(60, 30), 0, 5e3), 90, 4500), geo.Destination(geo.Destination(geo.Pt(60, 30), 180, 5e3), 90, 4500), geo.Destination(geo.Pt(60, 30), 180, 5e3)}},
			-1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := tc.a.shape(t), tc.b.shape(t)
			ref := refGap(tc.a, tc.b)
			if tc.wantGap >= 0 && math.Abs(ref-tc.wantGap) > 0.01 {
				t.Fatalf("reference gap %.4f m, want %.4f m by construction", ref, tc.wantGap)
			}
			for _, o := range []struct {
				name string
				x, y *geo.Shape
			}{{"a.Gap(b)", a, b}, {"b.Gap(a)", b, a}} {
				if got, _ := o.x.Gap(o.y); math.Abs(got-ref) > tolShape {
					t.Errorf("%s = %.4f m, want %.4f m", o.name, got, ref)
				}
			}
			if got, want := a.Within(b, 0), ref == 0; got != want {
				t.Errorf("Within(0) = %v, want %v (gap %.4f m)", got, want, ref)
			}
			if ref > 0 {
				if !a.Within(b, ref+0.05) || a.Within(b, ref-0.05) {
					t.Errorf("Within does not switch at the gap %.4f m: Within(gap+5cm) = %v, Within(gap-5cm) = %v", ref, a.Within(b, ref+0.05), a.Within(b, ref-0.05))
				}
			}
		})
	}
}

// sampleBoundary returns points on the shape's outer edge and core.
func sampleBoundary(f footprint) []geo.Point {
	var out []geo.Point
	around := func(p geo.Point) {
		for b := 0.0; b < 360; b += 2.5 {
			out = append(out, geo.Destination(p, b, f.radius))
		}
	}
	switch f.kind {
	case "circle":
		around(f.centre)
	case "corridor":
		for i, p := range f.path {
			around(p)
			if i+1 < len(f.path) {
				// Points along the geodesic, and either side of it.
				a, b := s2pt(p), s2pt(f.path[i+1])
				for k := 1; k < 20; k++ {
					m := s2.Interpolate(float64(k)/20, a, b)
					ll := s2.LatLngFromPoint(m)
					mp := geo.Pt(ll.Lat.Degrees(), ll.Lng.Degrees())
					brg := geo.Bearing(mp, f.path[i+1])
					out = append(out, mp, geo.Destination(mp, brg+90, f.radius), geo.Destination(mp, brg-90, f.radius))
				}
			}
		}
	default:
		for i, p := range f.ring {
			a, b := s2pt(p), s2pt(f.ring[(i+1)%len(f.ring)])
			for k := range 50 {
				ll := s2.LatLngFromPoint(s2.Interpolate(float64(k)/50, a, b))
				out = append(out, geo.Pt(ll.Lat.Degrees(), ll.Lng.Degrees()))
			}
		}
	}
	return out
}

func TestShapeBound(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var fs []footprint
	for _, c := range []geo.Point{geo.Pt(48, 30), geo.Pt(60, 30), geo.Pt(-55, 120)} {
		for range 200 {
			fs = append(fs, randomFootprint(r, c, 0.5))
		}
	}
	// Wide shapes whose geodesic edges bulge poleward of their vertices.
	fs = append(fs,
		footprint{kind: "polygon", ring: geo.Ring{geo.Pt(60, 20), geo.Pt(60, 40), geo.Pt(59, 40), geo.Pt(59, 20)}},
		footprint{kind: "corridor", radius: 2e3, path: []geo.Point{geo.Pt(60, 20), geo.Pt(60, 40)}},
		footprint{kind: "circle", centre: geo.Pt(60, 30), radius: 500e3},
	)
	const eps = 1e-9 // degrees
	for i, f := range fs {
		b := f.shape(t).Bound()
		for _, p := range sampleBoundary(f) {
			if p.Lat < b.MinLat-eps || p.Lat > b.MaxLat+eps || p.Lon < b.MinLon-eps || p.Lon > b.MaxLon+eps {
				t.Fatalf("shape %d %v: Bound() = %+v does not hold its point %v", i, f, b, p)
			}
		}
	}
	// The bulge case must actually bulge: the edge's midpoint lies north
	// of both vertices.
	mid := s2.LatLngFromPoint(s2.Interpolate(0.5, s2pt(geo.Pt(60, 20)), s2pt(geo.Pt(60, 40))))
	if mid.Lat.Degrees() <= 60.1 {
		t.Fatalf("midpoint of the 60N edge at %.4f N; the bound test needs a bulge", mid.Lat.Degrees())
	}
}

// region builds a geo.Region and the matching S2 index (interiors held).
func region(t testing.TB, m geo.MultiPolygon) (*geo.Region, *s2.ShapeIndex, *s2.ShapeIndex) {
	t.Helper()
	reg, err := geo.NewRegion(m)
	if err != nil {
		t.Fatal(err)
	}
	var loops []*s2.Loop
	boundary := s2.NewShapeIndex()
	for _, poly := range m {
		for _, ring := range poly {
			vs := make([]s2.Point, len(ring))
			for i, p := range ring {
				vs[i] = s2pt(p)
			}
			l := s2.LoopFromPoints(vs)
			l.Normalize()
			loops = append(loops, l)
			pl := s2.Polyline(append(append([]s2.Point{}, vs...), vs[0]))
			boundary.Add(&pl)
		}
	}
	full := s2.NewShapeIndex()
	full.Add(s2.PolygonFromLoops(loops))
	full.Build()
	boundary.Build()
	return reg, full, boundary
}

func TestShapeRegion(t *testing.T) {
	c := geo.Pt(48, 30)
	ring := func(centre geo.Point, rad float64, n int) geo.Ring {
		var out geo.Ring
		for k := range n {
			out = append(out, geo.Destination(centre, 360*float64(k)/float64(n), rad))
		}
		return out
	}
	// Two islands, the first with a hole.
	m := geo.MultiPolygon{
		{ring(c, 30e3, 9), ring(c, 8e3, 7)},
		{ring(geo.Destination(c, 90, 60e3), 10e3, 5)},
	}
	reg, full, boundary := region(t, m)
	r := rand.New(rand.NewPCG(5, 6))
	counts := map[string]int{}
	for i := range 2000 {
		f := randomFootprint(r, c, 0.6)
		if r.IntN(4) == 0 { // small shapes, more often wholly inside
			f = footprint{kind: "circle", centre: f.centre, radius: 100 + r.Float64()*3e3}
		}
		s := f.shape(t)
		core := f.core()
		want := max(0, indexDistance(core, full)-f.radius)
		if got := s.GapToRegion(reg); math.Abs(got-want) > tolShape {
			t.Fatalf("shape %d %v: GapToRegion = %.4f m, want %.4f m", i, f, got, want)
		}
		// Inside: every core vertex in the region, and the region's
		// boundary farther from the core (interior included) than the
		// radius.
		allIn := true
		for _, p := range sampleBoundary(f) {
			if !reg.Contains(p) {
				allIn = false
			}
		}
		bd := indexDistance(core, boundary)
		if math.Abs(bd-f.radius) < 0.05 {
			continue
		}
		var verts []geo.Point
		switch f.kind {
		case "circle":
			verts = []geo.Point{f.centre}
		case "corridor":
			verts = f.path
		default:
			verts = f.ring
		}
		wantIn := bd > f.radius
		for _, v := range verts {
			if !full.Shape(0).(*s2.Polygon).ContainsPoint(s2pt(v)) {
				wantIn = false
			}
		}
		if wantIn && !allIn {
			t.Fatalf("shape %d %v: reference says inside but a boundary sample is outside", i, f)
		}
		if got := s.InsideRegion(reg); got != wantIn {
			t.Fatalf("shape %d %v: InsideRegion = %v, want %v", i, f, got, wantIn)
		}
		if f.kind == "polygon" {
			if got, want := s.InsideRegion(reg), full.Shape(0).(*s2.Polygon).Contains(s2polygon(f.ring)); got != want {
				t.Fatalf("shape %d %v: InsideRegion = %v, s2.Polygon.Contains = %v", i, f, got, want)
			}
		}
		switch {
		case wantIn:
			counts["inside"]++
		case want == 0:
			counts["overlap"]++
		default:
			counts["apart"]++
		}
	}
	for _, k := range []string{"inside", "overlap", "apart"} {
		if counts[k] < 50 {
			t.Fatalf("got %v cases; the test needs at least 50 of %s", counts, k)
		}
	}
	// A polygon holding a whole island, and one around the hole only.
	for _, tc := range []struct {
		name       string
		ring       geo.Ring
		wantGap0   bool
		wantInside bool
	}{
		{"holds the second island", ring(geo.Destination(c, 90, 60e3), 20e3, 6), true, false},
		{"inside the hole", ring(c, 4e3, 6), false, false},
		{"around the hole, inside the island", ring(c, 15e3, 12), true, false},
		{"in the island beside the hole", ring(geo.Destination(c, 0, 20e3), 3e3, 6), true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := footprint{kind: "polygon", ring: tc.ring}
			s := f.shape(t)
			if got := s.GapToRegion(reg); (got == 0) != tc.wantGap0 {
				t.Errorf("GapToRegion = %.4f m, want zero: %v", got, tc.wantGap0)
			}
			if got := s.InsideRegion(reg); got != tc.wantInside {
				t.Errorf("InsideRegion = %v, want %v", got, tc.wantInside)
			}
		})
	}
}

func TestShapeGapToLine(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	c := geo.Pt(48, 30)
	walk := func(start geo.Point, n int, step float64) []geo.Point {
		pts := []geo.Point{start}
		b := r.Float64() * 360
		for range n - 1 {
			b += r.Float64()*60 - 30
			pts = append(pts, geo.Destination(pts[len(pts)-1], b, step))
		}
		return pts
	}
	for _, tc := range []struct {
		name  string
		parts int
		verts int // per part; above 25 edges the line is indexed
	}{
		{"small line", 1, 10},
		{"indexed line", 1, 200},
		{"small two-part line", 2, 6},
		{"indexed three-part line", 3, 80},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 20 {
				var parts [][]geo.Point
				lineIdx := s2.NewShapeIndex()
				for range tc.parts {
					p := walk(geo.Pt(c.Lat+(r.Float64()*2-1)*0.3, c.Lon+(r.Float64()*2-1)*0.4), tc.verts, 60e3/float64(tc.verts))
					parts = append(parts, p)
					pl := make(s2.Polyline, len(p))
					for i, q := range p {
						pl[i] = s2pt(q)
					}
					lineIdx.Add(&pl)
				}
				lineIdx.Build()
				line, err := geo.NewLine(parts)
				if err != nil {
					t.Fatal(err)
				}
				for i := range 50 {
					f := randomFootprint(r, c, 0.4)
					want := max(0, indexDistance(f.core(), lineIdx)-f.radius)
					if got := f.shape(t).GapToLine(line); math.Abs(got-want) > tolShape {
						t.Fatalf("shape %d %v: GapToLine = %.4f m, want %.4f m", i, f, got, want)
					}
				}
			}
		})
	}
	// A polygon holding the whole of a line's second part.
	t.Run("polygon holds a later part", func(t *testing.T) {
		for _, verts := range []int{5, 60} { // brute force and indexed
			t.Run(fmt.Sprint(verts), func(t *testing.T) {
				far := walk(geo.Pt(50, 35), verts, 1e3)
				near := walk(c, verts, 100)
				line, err := geo.NewLine([][]geo.Point{far, near})
				if err != nil {
					t.Fatal(err)
				}
				var ring geo.Ring
				for k := range 8 {
					ring = append(ring, geo.Destination(c, 45*float64(k), 30e3))
				}
				s, err := geo.PolygonShape(ring)
				if err != nil {
					t.Fatal(err)
				}
				if got := s.GapToLine(line); got != 0 {
					t.Errorf("GapToLine = %.1f m, want 0: the polygon holds the line's second part", got)
				}
			})
		}
	})
}

func TestShapeErrors(t *testing.T) {
	p := geo.Pt(48, 30)
	q := geo.Pt(48.1, 30.1)
	for _, tc := range []struct {
		name string
		make func() (*geo.Shape, error)
		want string // the message, or a part of it after "..."
	}{
		{"circle radius 0", func() (*geo.Shape, error) { return geo.CircleShape(geo.Cap{Center: p, Radius: 0}) },
			"radius 0 m: must be above 0 and at most 1000 km"},
		{"circle radius negative", func() (*geo.Shape, error) { return geo.CircleShape(geo.Cap{Center: p, Radius: -5}) },
			"radius -5 m: must be above 0 and at most 1000 km"},
		{"circle radius NaN", func() (*geo.Shape, error) { return geo.CircleShape(geo.Cap{Center: p, Radius: math.NaN()}) },
			"radius NaN m: must be above 0 and at most 1000 km"},
		{"circle too big", func() (*geo.Shape, error) { return geo.CircleShape(geo.Cap{Center: p, Radius: 1000e3 + 1}) },
			"radius 1.000001e+06 m: must be above 0 and at most 1000 km"},
		{"circle bad centre", func() (*geo.Shape, error) { return geo.CircleShape(geo.Cap{Center: geo.Pt(91, 30), Radius: 5}) },
			"centre: latitude 91 is outside [-90, 90]"},
		{"corridor one point", func() (*geo.Shape, error) { return geo.CorridorShape([]geo.Point{p}, 100) },
			"path has fewer than two distinct points"},
		{"corridor repeated point", func() (*geo.Shape, error) { return geo.CorridorShape([]geo.Point{p, p, p}, 100) },
			"path has fewer than two distinct points"},
		{"corridor half-width 0", func() (*geo.Shape, error) { return geo.CorridorShape([]geo.Point{p, q}, 0) },
			"half-width 0 m: must be above 0 and at most 100 km"},
		{"corridor bad point", func() (*geo.Shape, error) { return geo.CorridorShape([]geo.Point{p, geo.Pt(48, 181)}, 10) },
			"path point 1: longitude 181 is outside [-180, 180]"},
		{"polygon two points", func() (*geo.Shape, error) { return geo.PolygonShape(geo.Ring{p, q, p}) },
			"polygon has fewer than three distinct vertices"},
		{"polygon self-crossing", func() (*geo.Shape, error) {
			return geo.PolygonShape(geo.Ring{geo.Pt(48, 30), geo.Pt(48.1, 30.1), geo.Pt(48, 30.1), geo.Pt(48.1, 30)})
		}, "polygon: ...cross"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.make()
			if err == nil {
				t.Fatalf("got shape %v, want error %q", s.Vertices(), tc.want)
			}
			if prefix, part, ok := strings.Cut(tc.want, "..."); ok {
				if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(strings.ToLower(err.Error()), part) {
					t.Fatalf("got error %q, want %q then %q", err, prefix, part)
				}
			} else if err.Error() != tc.want {
				t.Fatalf("got error %q, want %q", err, tc.want)
			}
		})
	}
}
