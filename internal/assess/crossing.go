package assess

import (
	"math"
	"slices"

	"github.com/golang/geo/r3"

	"github.com/truce-dev/truce/internal/geo"
)

// vec is a point of the unit sphere.
type vec = r3.Vector

func toVec(p geo.Point) vec { return p.Vector() }

// crossings answers two questions about the line of contact: where a ray
// along a geodesic first meets it, and how far a point is from it. The line
// is densified to short edges, which are bucketed in a grid of cellDeg
// degrees so that a query looks only at the edges near it.
type crossings struct {
	edges []edge
	// The grid covers the line's bounding box grown by maxRing+1 cells:
	// cell (y, x) holds ids[start[i]:start[i+1]] with i = (y-y0)*nx + x-x0.
	y0, x0, ny, nx int32
	start          []int32
	ids            []int32
}

const (
	cellDeg   = 0.2   // grid cell, degrees of latitude and longitude
	maxEdge   = 5e3   // longest edge after densifying, metres
	rayStep   = 5e3   // steps along a ray when bounding it, metres
	marginDeg = 0.002 // slack on bounding boxes, degrees (an edge of 5 km bows out by under 3 m)
)

func cellOf(p geo.Point) [2]int32 {
	return [2]int32{int32(math.Floor(p.Lat / cellDeg)), int32(math.Floor(p.Lon / cellDeg))}
}

func newCrossings(l *geo.Line) *crossings {
	c := &crossings{}
	if l == nil {
		return c
	}
	type span struct{ lo, hi [2]int32 }
	var spans []span
	for _, part := range l.Densify(maxEdge).Parts() {
		for i := 0; i+1 < len(part); i++ {
			a, b := part[i], part[i+1]
			c.edges = append(c.edges, newEdge(toVec(a), toVec(b)))
			spans = append(spans, span{
				cellOf(geo.Pt(min(a.Lat, b.Lat)-marginDeg, min(a.Lon, b.Lon)-marginDeg)),
				cellOf(geo.Pt(max(a.Lat, b.Lat)+marginDeg, max(a.Lon, b.Lon)+marginDeg)),
			})
		}
	}
	bound := l.Bound()
	lo, hi := cellOf(geo.Pt(bound.MinLat, bound.MinLon)), cellOf(geo.Pt(bound.MaxLat, bound.MaxLon))
	c.y0, c.x0 = lo[0]-maxRing-1, lo[1]-maxRing-1
	c.ny, c.nx = hi[0]-c.y0+maxRing+2, hi[1]-c.x0+maxRing+2
	counts := make([]int32, c.ny*c.nx+1)
	each := func(sp span, f func(i int32)) {
		for y := sp.lo[0]; y <= sp.hi[0]; y++ {
			for x := sp.lo[1]; x <= sp.hi[1]; x++ {
				if i, ok := c.cell(y, x); ok {
					f(i)
				}
			}
		}
	}
	for _, sp := range spans {
		each(sp, func(i int32) { counts[i+1]++ })
	}
	for i := 1; i < len(counts); i++ {
		counts[i] += counts[i-1]
	}
	c.start = counts
	c.ids = make([]int32, counts[len(counts)-1])
	fill := slices.Clone(counts)
	for id, sp := range spans {
		each(sp, func(i int32) { c.ids[fill[i]] = int32(id); fill[i]++ })
	}
	return c
}

// cell returns the index of cell (y, x), if the grid holds it.
func (c *crossings) cell(y, x int32) (int32, bool) {
	y, x = y-c.y0, x-c.x0
	if y < 0 || x < 0 || y >= c.ny || x >= c.nx {
		return 0, false
	}
	return y*c.nx + x, true
}

// in returns the ids of the edges in cell (y, x).
func (c *crossings) in(y, x int32) []int32 {
	i, ok := c.cell(y, x)
	if !ok {
		return nil
	}
	return c.ids[c.start[i]:c.start[i+1]]
}

// first returns the distance in metres from p along the geodesic leaving
// it at bearing to the first point where it meets the line, if that is
// within reach metres.
func (c *crossings) first(p geo.Point, bearing, reach float64) (float64, bool) {
	if len(c.edges) == 0 {
		return 0, false
	}
	// Bound the ray by points every rayStep metres along it.
	lo, hi := p, p
	steps := int(math.Ceil(reach / rayStep))
	for i := 1; i <= steps; i++ {
		q := geo.Destination(p, bearing, min(reach, float64(i)*rayStep))
		lo = geo.Pt(min(lo.Lat, q.Lat), min(lo.Lon, q.Lon))
		hi = geo.Pt(max(hi.Lat, q.Lat), max(hi.Lon, q.Lon))
	}
	end := geo.Destination(p, bearing, reach)
	P, Q := toVec(p), toVec(end)
	n2 := P.Cross(Q)
	if n2.Norm() == 0 {
		return 0, false
	}
	clo := cellOf(geo.Pt(lo.Lat-marginDeg, lo.Lon-marginDeg))
	chi := cellOf(geo.Pt(hi.Lat+marginDeg, hi.Lon+marginDeg))
	best, found := math.Inf(1), false
	for y := clo[0]; y <= chi[0]; y++ {
		for x := clo[1]; x <= chi[1]; x++ {
			for _, id := range c.in(y, x) {
				e := c.edges[id]
				if t, ok := arcsMeet(e.a, e.b, P, Q, n2); ok && t < best {
					best, found = t, true
				}
			}
		}
	}
	if !found || best > reach {
		return 0, false
	}
	return best, true
}

// arcsMeet reports whether the minor arcs AB and PQ meet, and how far
// along PQ from P (metres); n2 is P×Q.
func arcsMeet(A, B, P, Q, n2 vec) (float64, bool) {
	n1 := A.Cross(B)
	d := n1.Cross(n2)
	l := d.Norm()
	if l < 1e-15 {
		return 0, false // the arcs lie on one great circle, or an arc is empty
	}
	d = d.Mul(1 / l)
	const eps = -1e-12 // admit a meeting at an arc's end despite rounding
	for _, X := range [2]vec{d, d.Mul(-1)} {
		if A.Cross(X).Dot(n1) >= eps && X.Cross(B).Dot(n1) >= eps &&
			P.Cross(X).Dot(n2) >= eps && X.Cross(Q).Dot(n2) >= eps {
			return math.Atan2(P.Cross(X).Norm(), P.Dot(X)) * geo.EarthRadius, true
		}
	}
	return 0, false
}

// maxRing bounds the rings of cells distance searches before it gives up
// and the caller asks the line itself (about 200 km).
const maxRing = 10

// distance returns the distance in metres from p to the line, searching
// the cells around p ring by ring; ok is false when no edge lies within
// maxRing rings.
func (c *crossings) distance(p geo.Point) (float64, bool) {
	P := toVec(p)
	c0 := cellOf(p)
	best := math.Inf(1) // squared chord
	for k := int32(0); k <= maxRing; k++ {
		for y := c0[0] - k; y <= c0[0]+k; y++ {
			step := int32(1)
			if y != c0[0]-k && y != c0[0]+k {
				step = 2 * k // inside the ring: only its two ends are new
			}
			for x := c0[1] - k; x <= c0[1]+k; x += max(step, 1) {
				for _, id := range c.in(y, x) {
					e := c.edges[id]
					best = min(best, e.chord2(P))
				}
			}
		}
		// Cells beyond ring k are at least k whole cells away in latitude or
		// longitude; a degree of longitude is shortest at the highest
		// latitude they can reach.
		lat := math.Min(89, math.Abs(p.Lat)+float64(k+1)*cellDeg)
		bound := float64(k) * cellDeg * math.Pi / 180 * math.Cos(lat*math.Pi/180)
		if best < math.Inf(1) {
			if d := 2 * math.Asin(math.Sqrt(best)/2); d <= bound {
				return d * geo.EarthRadius, true
			}
		}
	}
	return 0, false
}

// edge is one edge of the line: its ends, the unit normal of its great
// circle, and the normals u = n×a and w = b×n of the planes that bound it,
// so that a point P projects inside the edge when P·u >= 0 and P·w >= 0.
type edge struct {
	a, b, n, u, w vec
	ok            bool // the ends are distinct
}

func newEdge(a, b vec) edge {
	e := edge{a: a, b: b}
	n := a.Cross(b)
	if l := n.Norm(); l > 0 {
		e.n, e.ok = n.Mul(1/l), true
		e.u, e.w = e.n.Cross(a), b.Cross(e.n)
	}
	return e
}

// chord2 returns the squared chord from unit vector P to the nearest point
// of the edge.
func (e *edge) chord2(P vec) float64 {
	if e.ok && P.Dot(e.u) >= 0 && P.Dot(e.w) >= 0 {
		// The nearest point is P's projection on the great circle, at angle
		// asin|P·n| from P.
		s := P.Dot(e.n)
		return 2 * (1 - math.Sqrt(max(0, 1-s*s)))
	}
	return min(chord2(P, e.a), chord2(P, e.b))
}

func chord2(a, b vec) float64 {
	return a.Sub(b).Norm2()
}
