package geo

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// Shape is a small footprint on the sphere: a core (a point, a path or a
// polygon) and every point within a radius of it. A circle is a point core
// with its radius; a corridor a path core with its half-width; a polygon a
// polygon core with radius zero. Shapes answer exact distance questions
// between each other, and against lines and regions, with S2's edge
// predicates: geodesic edges on the real Earth, not a flat projection.
// Shapes are immutable and safe for concurrent use.
type Shape struct {
	pts      []s2.Point // the core's vertices
	closed   bool       // a polygon: pts is a loop
	loop     *s2.Loop   // polygons only
	radius   s1.Angle
	balls    []ball  // bound each edge of the core
	cap      s2.Cap  // bounds the shape, radius included
	capChord float64 // the chord of cap's radius
	bound    Rect    // bounds the shape, radius included
}

// maxShapeVertices bounds a shape's core: shapes are plans drawn by hand,
// not coastlines.
const maxShapeVertices = 1000

// CircleShape returns the disc c.
func CircleShape(c Cap) (*Shape, error) {
	if err := c.Center.Validate(); err != nil {
		return nil, fmt.Errorf("centre: %v", err)
	}
	if !(c.Radius > 0) || c.Radius > 1000e3 {
		return nil, fmt.Errorf("radius %g m: must be above 0 and at most 1000 km", c.Radius)
	}
	return newShape([]s2.Point{c.Center.s2()}, false, angle(c.Radius)), nil
}

// CorridorShape returns every point within halfWidth metres of the path.
func CorridorShape(path []Point, halfWidth float64) (*Shape, error) {
	if !(halfWidth > 0) || halfWidth > 100e3 {
		return nil, fmt.Errorf("half-width %g m: must be above 0 and at most 100 km", halfWidth)
	}
	pts := dedupe(path)
	if len(pts) < 2 {
		return nil, fmt.Errorf("path has fewer than two distinct points")
	}
	if len(pts) > maxShapeVertices {
		return nil, fmt.Errorf("path has %d points, more than %d", len(pts), maxShapeVertices)
	}
	vs := make([]s2.Point, len(pts))
	for i, p := range pts {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("path point %d: %v", i, err)
		}
		vs[i] = p.s2()
	}
	for i := 0; i+1 < len(vs); i++ {
		if vs[i].Distance(vs[i+1]) > math.Pi/2 {
			return nil, fmt.Errorf("path points %d and %d are more than a quarter of the Earth apart", i, i+1)
		}
	}
	return newShape(vs, false, angle(halfWidth)), nil
}

// PolygonShape returns the polygon bounded by ring (open or closed, either
// winding; the inside is the smaller side). The ring must not cross itself.
func PolygonShape(ring Ring) (*Shape, error) {
	r := dedupe(ring)
	if len(r) > 1 && r[0] == r[len(r)-1] {
		r = r[:len(r)-1]
	}
	if len(r) < 3 {
		return nil, fmt.Errorf("polygon has fewer than three distinct vertices")
	}
	if len(r) > maxShapeVertices {
		return nil, fmt.Errorf("polygon has %d vertices, more than %d", len(r), maxShapeVertices)
	}
	for i, p := range r {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("polygon vertex %d: %v", i, err)
		}
	}
	l := loopOf(r)
	if err := l.Validate(); err != nil {
		return nil, fmt.Errorf("polygon: %v", err)
	}
	// S2's Loop.Validate does not look for crossing edges (golang/geo
	// leaves that check out); do it here.
	if i, j, ok := selfCrossing(l.Vertices()); ok {
		return nil, fmt.Errorf("polygon: edges %d and %d cross", i, j)
	}
	s := newShape(l.Vertices(), true, 0)
	s.loop = l
	s.setCap(l.CapBound())
	s.bound = rectOf(l.RectBound())
	return s, nil
}

// selfCrossing reports two non-adjacent edges of the loop vs that cross
// or touch. Edges are swept in order of their lowest latitude, so only
// edges whose latitude ranges overlap are compared.
func selfCrossing(vs []s2.Point) (int, int, bool) {
	n := len(vs)
	type span struct {
		lo, hi float64
		i      int
	}
	es := make([]span, n)
	for i := range n {
		b := s2.NewRectBounder()
		b.AddPoint(vs[i])
		b.AddPoint(vs[(i+1)%n])
		r := b.RectBound()
		es[i] = span{r.Lat.Lo, r.Lat.Hi, i}
	}
	slices.SortFunc(es, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	for k := range es {
		for m := k + 1; m < n && es[m].lo <= es[k].hi; m++ {
			i, j := min(es[k].i, es[m].i), max(es[k].i, es[m].i)
			if j == i+1 || (i == 0 && j == n-1) {
				continue // adjacent edges share a vertex
			}
			if s2.CrossingSign(vs[i], vs[(i+1)%n], vs[j], vs[(j+1)%n]) != s2.DoNotCross {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}

func newShape(pts []s2.Point, closed bool, radius s1.Angle) *Shape {
	s := &Shape{pts: pts, closed: closed, radius: radius}
	s.balls = make([]ball, s.edgeCount())
	for i := range s.balls {
		s.balls[i] = edgeBall(s.edge(i))
	}
	var rect s2.Rect
	if len(pts) == 1 {
		s.setCap(s2.CapFromCenterAngle(pts[0], radius))
		rect = s.cap.RectBound()
	} else {
		pl := s2.Polyline(pts)
		c := pl.CapBound()
		s.setCap(s2.CapFromCenterAngle(c.Center(), c.Radius()+radius))
		rect = pl.RectBound()
		if radius > 0 {
			// Grow by the radius: exact in latitude, and in longitude by
			// the widest a circle of that radius gets over the rect.
			lat := rect.Lat.Expanded(float64(radius)).Intersection(s2.FullRect().Lat)
			far := max(math.Abs(lat.Lo), math.Abs(lat.Hi))
			dlon := math.Pi
			if c := math.Cos(far); c > math.Sin(float64(radius)) {
				dlon = math.Asin(math.Sin(float64(radius)) / c)
			}
			rect = s2.Rect{Lat: lat, Lng: rect.Lng.Expanded(dlon)}
		}
	}
	s.bound = rectOf(rect)
	return s
}

func (s *Shape) setCap(c s2.Cap) {
	s.cap = c
	s.capChord = 2 * math.Sin(min(float64(c.Radius()), math.Pi)/2)
}

// Bound returns a latitude/longitude box holding the shape.
func (s *Shape) Bound() Rect { return s.bound }

// Anchor returns a point of the shape: its first core vertex.
func (s *Shape) Anchor() Point { return fromS2(s.pts[0]) }

// Vertices returns the shape's core vertices.
func (s *Shape) Vertices() []Point {
	out := make([]Point, len(s.pts))
	for i, v := range s.pts {
		out[i] = fromS2(v)
	}
	return out
}

// edgeCount is the number of edges of the core.
func (s *Shape) edgeCount() int {
	switch {
	case len(s.pts) < 2:
		return 0
	case s.closed:
		return len(s.pts)
	}
	return len(s.pts) - 1
}

func (s *Shape) edge(i int) (s2.Point, s2.Point) {
	j := i + 1
	if j == len(s.pts) {
		j = 0
	}
	return s.pts[i], s.pts[j]
}

// ball bounds an edge in space: every point of the edge (a geodesic arc
// on the unit sphere) lies within r of c.
type ball struct {
	c r3.Vector
	r float64
}

func edgeBall(a, b s2.Point) ball {
	half := a.Sub(b.Vector).Norm() / 2
	θ := a.Angle(b.Vector)
	// The arc bulges from its chord by at most 1-cos(θ/2).
	return ball{c: a.Add(b.Vector).Mul(0.5), r: half + (1 - math.Cos(float64(θ)/2)) + 1e-15}
}

// apart reports whether no point of x's ball is closer than √d (a squared
// chord length, as s1.ChordAngle holds it) to a point of y's: chords
// never exceed arcs, so the edges are at least that far apart.
func apart(x, y *ball, d s1.ChordAngle) bool {
	lb := x.c.Sub(y.c).Norm() - x.r - y.r
	return lb > 0 && lb*lb > float64(d)
}

// coreDistance returns the distance between the two cores (zero when they
// touch, cross or one holds the other) and the point of s's core nearest
// t's, when that distance is below limit; otherwise a distance of at least
// limit. Edge pairs whose bounding balls are farther apart than the best
// distance found are passed over.
func coreDistance(s, t *Shape, limit s1.ChordAngle) (s1.ChordAngle, s2.Point) {
	best, where := edgeDistance(s, t, limit)
	if best == 0 || (best < limit && limit != s1.InfChordAngle()) {
		return best, where
	}
	// No edges within the limit: one core may hold the other whole.
	if s.loop != nil && s.cap.ContainsPoint(t.pts[0]) && s.loop.ContainsPoint(t.pts[0]) {
		return 0, t.pts[0]
	}
	if t.loop != nil && t.cap.ContainsPoint(s.pts[0]) && t.loop.ContainsPoint(s.pts[0]) {
		return 0, s.pts[0]
	}
	return best, where
}

// edgeDistance is coreDistance without containment: the distance between
// the cores' vertices and edges.
func edgeDistance(s, t *Shape, limit s1.ChordAngle) (s1.ChordAngle, s2.Point) {
	best := limit
	var where s2.Point
	ns, nt := s.edgeCount(), t.edgeCount()
	switch {
	case ns == 0 && nt == 0:
		if d := s2.ChordAngleBetweenPoints(s.pts[0], t.pts[0]); d < best {
			best, where = d, s.pts[0]
		}
	case ns == 0:
		v := s.pts[0]
		vb := ball{c: v.Vector}
		for j := range nt {
			if apart(&vb, &t.balls[j], best) {
				continue
			}
			b0, b1 := t.edge(j)
			if d, ok := s2.UpdateMinDistance(v, b0, b1, best); ok {
				best, where = d, v
			}
		}
	case nt == 0:
		v := t.pts[0]
		vb := ball{c: v.Vector}
		for i := range ns {
			if apart(&vb, &s.balls[i], best) {
				continue
			}
			a0, a1 := s.edge(i)
			if d, ok := s2.UpdateMinDistance(v, a0, a1, best); ok {
				best, where = d, s2.Project(v, a0, a1)
			}
		}
	default:
		for i := range ns {
			a0, a1 := s.edge(i)
			for j := range nt {
				if apart(&s.balls[i], &t.balls[j], best) {
					continue
				}
				b0, b1 := t.edge(j)
				for _, v := range [2]s2.Point{a0, a1} {
					if d, ok := s2.UpdateMinDistance(v, b0, b1, best); ok {
						best, where = d, v
					}
				}
				for _, v := range [2]s2.Point{b0, b1} {
					if d, ok := s2.UpdateMinDistance(v, a0, a1, best); ok {
						best, where = d, s2.Project(v, a0, a1)
					}
				}
				if best < limit && limit != s1.InfChordAngle() {
					return best, where // close enough: the caller asks no more
				}
				if s2.CrossingSign(a0, a1, b0, b1) == s2.Cross {
					x, _ := s2.EdgePairClosestPoints(a0, a1, b0, b1)
					return 0, x
				}
			}
		}
	}
	return best, where
}

// Within reports whether the horizontal gap between s and t is at most d
// metres.
func (s *Shape) Within(t *Shape, d float64) bool {
	reach := s.radius + t.radius + angle(d)
	if len(s.pts) == 1 && len(t.pts) == 1 {
		// Two circles: their centres' distance settles it.
		return s.pts[0].Angle(t.pts[0].Vector) <= reach
	}
	// The bounding caps settle most pairs: each cap lies within a chord of
	// its radius from its centre, and no chord is longer than its arc.
	if s.cap.Center().Sub(t.cap.Center().Vector).Norm()-s.capChord-t.capChord > float64(angle(d)) {
		return false
	}
	limit := s1.ChordAngleFromAngle(reach).Successor()
	// Two vertices close enough settle it the other way: the cores are no
	// farther apart than any two of their points.
	for _, v := range s.pts {
		for _, w := range t.pts {
			if s1.ChordAngle(v.Sub(w.Vector).Norm2()) < limit {
				return true
			}
		}
	}
	dist, _ := coreDistance(s, t, limit)
	return dist < limit
}

// Gap returns the horizontal gap between s and t in metres (0 when they
// overlap) and the point of s nearest t (a point of the overlap when they
// overlap).
func (s *Shape) Gap(t *Shape) (float64, Point) {
	dist, where := coreDistance(s, t, s1.InfChordAngle())
	gap := dist.Angle() - s.radius - t.radius
	if s.radius > 0 && dist > 0 {
		// Step from s's core towards t by the radius, so the point lies
		// on s's edge (or in the overlap).
		step := min(s.radius, dist.Angle())
		if p := towards(where, t); p != (s2.Point{}) {
			where = s2.InterpolateAtDistance(step, where, p)
		}
	}
	return max(0, metres(gap)), fromS2(where)
}

// towards returns the point of t's core nearest x.
func towards(x s2.Point, t *Shape) s2.Point {
	if t.edgeCount() == 0 {
		return t.pts[0]
	}
	best := s1.InfChordAngle()
	var p s2.Point
	for j := range t.edgeCount() {
		b0, b1 := t.edge(j)
		q := s2.Project(x, b0, b1)
		if d := s2.ChordAngleBetweenPoints(x, q); d < best {
			best, p = d, q
		}
	}
	return p
}

// Contains reports whether p lies in the shape.
func (s *Shape) Contains(p Point) bool { return s.DistanceTo(p) == 0 }

// DistanceTo returns how far p lies outside the shape, in metres (0
// inside).
func (s *Shape) DistanceTo(p Point) float64 {
	x := p.s2()
	if s.loop != nil && s.loop.ContainsPoint(x) {
		return 0
	}
	best := s1.InfChordAngle()
	if s.edgeCount() == 0 {
		best = s2.ChordAngleBetweenPoints(x, s.pts[0])
	}
	for i := range s.edgeCount() {
		a0, a1 := s.edge(i)
		best, _ = s2.UpdateMinDistance(x, a0, a1, best)
	}
	return max(0, metres(best.Angle()-s.radius))
}

// edgeIndexDistance returns the distance from s's core to the edges of
// idx, not counting idx's interiors.
func (s *Shape) edgeIndexDistance(idx *s2.ShapeIndex) s1.ChordAngle {
	q := s2.NewClosestEdgeQuery(idx, s2.NewClosestEdgeQueryOptions().IncludeInteriors(false))
	best := s1.InfChordAngle()
	if s.edgeCount() == 0 {
		return q.Distance(s2.NewMinDistanceToPointTarget(s.pts[0]))
	}
	for i := range s.edgeCount() {
		a0, a1 := s.edge(i)
		best = min(best, q.Distance(s2.NewMinDistanceToEdgeTarget(s2.Edge{V0: a0, V1: a1})))
	}
	return best
}

// GapToLine returns the horizontal gap in metres between s and the line
// (0 when the line passes through it).
func (s *Shape) GapToLine(l *Line) float64 {
	var d s1.ChordAngle
	if l.index != nil {
		d = s.edgeIndexDistance(l.index)
	} else {
		d = s1.InfChordAngle()
		for _, e := range l.edges {
			t := newShape([]s2.Point{e.a, e.b}, false, 0)
			c, _ := coreDistance(s, t, s1.InfChordAngle())
			d = min(d, c)
		}
	}
	if s.loop != nil && d > 0 {
		// A part wholly inside the polygon meets none of its edges; any
		// part, not only the first, may be (brute-forced lines were
		// checked edge by edge above).
		for _, part := range l.parts {
			if s.loop.ContainsPoint(part[0].s2()) {
				d = 0
				break
			}
		}
	}
	return max(0, metres(d.Angle()-s.radius))
}

// GapToRegion returns the horizontal gap in metres between s and the
// region (0 when they overlap).
func (s *Shape) GapToRegion(r *Region) float64 {
	if r.sp.ContainsPoint(s.pts[0]) {
		return 0
	}
	if s.loop != nil {
		for _, l := range r.sp.Loops() {
			if s.loop.ContainsPoint(l.Vertex(0)) {
				return 0
			}
		}
	}
	d := s.edgeIndexDistance(r.edges)
	return max(0, metres(d.Angle()-s.radius))
}

// InsideRegion reports whether the whole shape lies inside the region.
func (s *Shape) InsideRegion(r *Region) bool {
	for _, v := range s.pts {
		if !r.sp.ContainsPoint(v) {
			return false
		}
	}
	// Every core vertex is inside; the shape is inside when the region's
	// boundary stays farther from the core than the radius and crosses no
	// core edge.
	d := s.edgeIndexDistance(r.edges)
	if d.Angle() <= s.radius {
		return false
	}
	if s.loop != nil {
		for _, l := range r.sp.Loops() {
			if s.loop.ContainsPoint(l.Vertex(0)) {
				return false // a hole or another polygon inside the shape
			}
		}
	}
	return true
}
