package geo

import (
	"fmt"
	"math"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// Ring is a closed ring of vertices stored open: the closing vertex is not
// repeated.
type Ring []Point

// Polygon is an exterior ring followed by zero or more holes.
type Polygon []Ring

// MultiPolygon is a set of polygons whose interiors do not overlap: separate
// islands, each possibly with holes.
type MultiPolygon []Polygon

// Bound returns the bounding box of every vertex of m.
func (m MultiPolygon) Bound() Rect {
	r := EmptyRect()
	for _, poly := range m {
		for _, ring := range poly {
			for _, p := range ring {
				r = r.Extend(p)
			}
		}
	}
	return r
}

// NumVertices returns the number of vertices over all rings.
func (m MultiPolygon) NumVertices() int {
	n := 0
	for _, poly := range m {
		for _, ring := range poly {
			n += len(ring)
		}
	}
	return n
}

// Densify returns m with vertices added along its geodesic edges so that no
// edge is longer than maxEdge metres.
func (m MultiPolygon) Densify(maxEdge float64) MultiPolygon {
	out := make(MultiPolygon, len(m))
	for i, poly := range m {
		out[i] = make(Polygon, len(poly))
		for j, ring := range poly {
			out[i][j] = densifyPath(ring, maxEdge, true)
		}
	}
	return out
}

// A Region is a validated MultiPolygon on the sphere, ready for containment,
// boundary-distance and area queries.
type Region struct {
	polys MultiPolygon
	sp    *s2.Polygon
	edges *s2.ShapeIndex
	bound Rect
}

// NewRegion validates m and builds a Region from it. Rings may wind either
// way; consecutive duplicate vertices are dropped.
func NewRegion(m MultiPolygon) (*Region, error) {
	if len(m) == 0 {
		return nil, fmt.Errorf("no polygons")
	}
	clean := make(MultiPolygon, len(m))
	for i, poly := range m {
		if len(poly) == 0 {
			return nil, fmt.Errorf("polygon %d has no rings", i)
		}
		clean[i] = make(Polygon, len(poly))
		for j, ring := range poly {
			r := dedupe(ring)
			if len(r) > 1 && r[0] == r[len(r)-1] {
				r = r[:len(r)-1]
			}
			if len(r) < 3 {
				return nil, fmt.Errorf("polygon %d ring %d has fewer than three distinct vertices", i, j)
			}
			for k, p := range r {
				if err := p.Validate(); err != nil {
					return nil, fmt.Errorf("polygon %d ring %d vertex %d: %v", i, j, k, err)
				}
			}
			clean[i][j] = r
		}
	}
	pl, err := PlaneFor(clean.Bound())
	if err != nil {
		return nil, err
	}
	if err := pl.validate(clean); err != nil {
		return nil, err
	}
	var loops []*s2.Loop
	for _, poly := range clean {
		for _, ring := range poly {
			loops = append(loops, loopOf(ring))
		}
	}
	sp := s2.PolygonFromLoops(loops)
	if err := sp.Validate(); err != nil {
		return nil, fmt.Errorf("invalid polygon: %v", err)
	}
	idx := s2.NewShapeIndex()
	idx.Add(sp)
	idx.Build()
	return &Region{polys: clean, sp: sp, edges: idx, bound: rectOf(sp.RectBound())}, nil
}

// Polygons returns the region's polygons as given (rings open).
func (r *Region) Polygons() MultiPolygon { return r.polys }

// Bound returns the region's bounding box, including the bulge of its
// geodesic edges beyond their vertices.
func (r *Region) Bound() Rect { return r.bound }

// Contains reports whether p lies inside the region.
func (r *Region) Contains(p Point) bool { return r.sp.ContainsPoint(p.s2()) }

// Area returns the region's area in square metres.
func (r *Region) Area() float64 { return r.sp.Area() * EarthRadius * EarthRadius }

// BoundaryDistance returns the distance in metres from p to the region's
// boundary (not to its interior: a point inside has a positive distance too).
func (r *Region) BoundaryDistance(p Point) float64 {
	q := s2.NewClosestEdgeQuery(r.edges, s2.NewClosestEdgeQueryOptions().IncludeInteriors(false).MaxResults(1))
	return metres(q.Distance(s2.NewMinDistanceToPointTarget(p.s2())).Angle())
}

// BoundaryWithin reports whether the region's boundary comes within m
// metres of p.
func (r *Region) BoundaryWithin(p Point, m float64) bool {
	q := s2.NewClosestEdgeQuery(r.edges, s2.NewClosestEdgeQueryOptions().IncludeInteriors(false))
	return q.IsDistanceLess(s2.NewMinDistanceToPointTarget(p.s2()), chord(m).Successor())
}

// Intersects reports whether the line passes through or touches the region.
func (r *Region) Intersects(l *Line) bool {
	for _, e := range l.edges {
		if r.sp.ContainsPoint(e.a) || r.sp.ContainsPoint(e.b) {
			return true
		}
	}
	q := s2.NewClosestEdgeQuery(r.edges, s2.NewClosestEdgeQueryOptions().IncludeInteriors(false))
	for _, e := range l.edges {
		if q.IsDistanceLess(s2.NewMinDistanceToEdgeTarget(s2.Edge{V0: e.a, V1: e.b}), s1.ChordAngleFromAngle(angle(1)).Successor()) {
			return true
		}
	}
	return false
}

// Cap is a disc on the Earth: every point within Radius metres of Center.
type Cap struct {
	Center Point
	Radius float64
}

// Contains reports whether p lies within the disc.
func (c Cap) Contains(p Point) bool { return Distance(c.Center, p) <= c.Radius }

// Area returns the disc's area in square metres.
func (c Cap) Area() float64 {
	return s2.CapFromCenterAngle(c.Center.s2(), angle(c.Radius)).Area() * EarthRadius * EarthRadius
}

// Polygon returns the disc as a regular polygon whose edges stay within tol
// metres of the circle and whose area equals the disc's: its vertices lie
// just outside the circle and its edges' midpoints just inside.
func (c Cap) Polygon(tol float64) Polygon {
	n := arcSteps(c.Radius, tol, 2*math.Pi)
	θ := 2 * math.Pi / float64(n)
	r := c.Radius * math.Sqrt(θ/math.Sin(θ))
	ring := make(Ring, n)
	for i := range n {
		ring[i] = Destination(c.Center, 360*float64(i)/float64(n), r)
	}
	// Destination walks clockwise from north; reverse for counter-clockwise.
	for i, j := 0, len(ring)-1; i < j; i, j = i+1, j-1 {
		ring[i], ring[j] = ring[j], ring[i]
	}
	return Polygon{ring}
}

// rectOf converts an S2 latitude-longitude rectangle to a Rect.
func rectOf(r s2.Rect) Rect {
	if r.IsEmpty() {
		return EmptyRect()
	}
	return Rect{MinLat: r.Lat.Lo * 180 / math.Pi, MaxLat: r.Lat.Hi * 180 / math.Pi, MinLon: r.Lng.Lo * 180 / math.Pi, MaxLon: r.Lng.Hi * 180 / math.Pi}
}

// loopOf returns ring as a normalized S2 loop: the side holding less than
// half the sphere is its inside, whichever way the ring winds.
func loopOf(ring Ring) *s2.Loop {
	vs := make([]s2.Point, len(ring))
	for i, p := range ring {
		vs[i] = p.s2()
	}
	l := s2.LoopFromPoints(vs)
	l.Normalize()
	return l
}
