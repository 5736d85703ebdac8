package geo

import (
	"fmt"
	"math"
	"sync"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
	"github.com/peterstace/simplefeatures/geom"
)

// Side says on which side of a directed line a point lies.
type Side int8

// Sides of a directed line, looking along its direction.
const (
	On    Side = 0
	Left  Side = 1
	Right Side = -1
)

func (s Side) String() string {
	switch s {
	case Left:
		return "left"
	case Right:
		return "right"
	}
	return "on"
}

// edge is one geodesic edge of a Line, with the vertices either side of it
// so that the side of a point whose nearest feature is a vertex can be
// decided from the edge alone.
type edge struct {
	a, b             s2.Point
	prev, next       s2.Point
	hasPrev, hasNext bool
}

// A Line is a polyline of one or more parts (a LineString or
// MultiLineString) with an edge index for closest-edge queries.
type Line struct {
	parts  [][]Point
	edges  []*edge        // shared with the lines cut from this one by Near
	index  *s2.ShapeIndex // nil for small sub-lines, which are searched by brute force
	shapes []int          // index shape id -> offset of its first edge in edges
	length float64
	bound  Rect

	mu         sync.Mutex
	simplified map[float64]*Line // Simplify's results, by tolerance
}

// bruteForceEdges is the number of edges below which a Line is searched
// without an index.
const bruteForceEdges = 24

// NewLine builds a Line from its parts. Consecutive duplicate vertices are
// dropped; each part needs at least two distinct vertices.
func NewLine(parts [][]Point) (*Line, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("line has no parts")
	}
	l := &Line{bound: EmptyRect()}
	for i, part := range parts {
		pts := dedupe(part)
		if len(pts) < 2 {
			return nil, fmt.Errorf("part %d has fewer than two distinct vertices", i)
		}
		pl := make(s2.Polyline, len(pts))
		for j, p := range pts {
			if err := p.Validate(); err != nil {
				return nil, fmt.Errorf("part %d vertex %d: %v", i, j, err)
			}
			pl[j] = p.s2()
		}
		l.bound = l.bound.Union(rectOf(pl.RectBound()))
		l.parts = append(l.parts, pts)
	}
	l.build(true)
	return l, nil
}

func dedupe(pts []Point) []Point {
	out := make([]Point, 0, len(pts))
	for _, p := range pts {
		if len(out) == 0 || out[len(out)-1] != p {
			out = append(out, p)
		}
	}
	return out
}

func (l *Line) build(indexed bool) {
	var store []edge
	for _, part := range l.parts {
		vs := make([]s2.Point, len(part))
		for i, p := range part {
			vs[i] = p.s2()
		}
		l.shapes = append(l.shapes, len(store))
		for i := 0; i+1 < len(vs); i++ {
			e := edge{a: vs[i], b: vs[i+1]}
			if i > 0 {
				e.prev, e.hasPrev = vs[i-1], true
			}
			if i+2 < len(vs) {
				e.next, e.hasNext = vs[i+2], true
			}
			store = append(store, e)
			l.length += metres(vs[i].Distance(vs[i+1]))
		}
	}
	l.edges = make([]*edge, len(store))
	for i := range store {
		l.edges[i] = &store[i]
	}
	if indexed && len(l.edges) > bruteForceEdges {
		l.index = s2.NewShapeIndex()
		for _, part := range l.parts {
			pl := make(s2.Polyline, len(part))
			for i, p := range part {
				pl[i] = p.s2()
			}
			l.index.Add(&pl)
		}
		l.index.Build()
	}
}

// Parts returns the line's vertices, part by part. The caller must not modify them.
func (l *Line) Parts() [][]Point { return l.parts }

// NumVertices returns the number of vertices over all parts.
func (l *Line) NumVertices() int {
	n := 0
	for _, p := range l.parts {
		n += len(p)
	}
	return n
}

// Length returns the line's length in metres.
func (l *Line) Length() float64 { return l.length }

// Bound returns the line's bounding box.
func (l *Line) Bound() Rect { return l.bound }

// Nearest is the answer to "where is the line closest to this point".
type Nearest struct {
	// Distance from the point to the line, in metres.
	Distance float64
	// Point is the closest point on the line.
	Point Point
	// Side is the side of the line the point lies on, looking along the
	// line's direction; On only for points on the line.
	Side Side
}

// Closest returns the closest point of the line to p, the distance to it and
// the side of the line p lies on.
func (l *Line) Closest(p Point) Nearest {
	x := p.s2()
	i, d := l.closestEdge(x)
	e := l.edges[i]
	q := s2.Project(x, e.a, e.b)
	n := Nearest{Distance: metres(d.Angle()), Point: fromS2(q)}
	if d == 0 {
		return n
	}
	n.Side = e.side(x, q)
	return n
}

// Distance returns the distance from p to the line in metres.
func (l *Line) Distance(p Point) float64 {
	_, d := l.closestEdge(p.s2())
	return metres(d.Angle())
}

func (l *Line) closestEdge(x s2.Point) (int, s1.ChordAngle) {
	if l.index == nil {
		best, bestD := 0, s1.InfChordAngle()
		for i := range l.edges {
			if d, ok := s2.UpdateMinDistance(x, l.edges[i].a, l.edges[i].b, bestD); ok {
				best, bestD = i, d
			}
		}
		return best, bestD
	}
	q := s2.NewClosestEdgeQuery(l.index, s2.NewClosestEdgeQueryOptions().MaxResults(1))
	r := q.FindEdges(s2.NewMinDistanceToPointTarget(x))[0]
	return l.shapes[r.ShapeID()] + int(r.EdgeID()), r.Distance()
}

// side decides the side of x, whose closest point on the line is q on e.
func (e *edge) side(x, q s2.Point) Side {
	var u, v, w s2.Point
	switch {
	case q == e.a && e.hasPrev:
		u, v, w = e.prev, e.a, e.b
	case q == e.b && e.hasNext:
		u, v, w = e.a, e.b, e.next
	default:
		return sideOf(s2.RobustSign(e.a, e.b, x))
	}
	l1 := s2.RobustSign(u, v, x) == s2.CounterClockwise
	l2 := s2.RobustSign(v, w, x) == s2.CounterClockwise
	var left bool
	if s2.RobustSign(u, v, w) == s2.CounterClockwise { // left turn: the left side is the narrow wedge
		left = l1 && l2
	} else {
		left = l1 || l2
	}
	if left {
		return Left
	}
	return Right
}

func sideOf(d s2.Direction) Side {
	switch d {
	case s2.CounterClockwise:
		return Left
	case s2.Clockwise:
		return Right
	}
	return On
}

// Near returns the part of the line that can hold the closest point to any
// point within radius metres of c: every edge within distance(c)+2·radius
// of c. It also returns the distance from c to the line. A cut of a cut is
// made by scanning the parent's edges, which is far cheaper than querying
// the index for each of the many small discs a classifier visits; the
// index is queried only for the first cut, and not at all while the cut
// would hold more than maxCutEdges edges.
func (l *Line) Near(c Point, radius float64) (*Line, float64) {
	x := c.s2()
	sub := &Line{bound: l.bound, length: l.length}
	if l.index != nil {
		_, d := l.closestEdge(x)
		dm := metres(d.Angle())
		// Far from a dense line, the ring between d and d+2r holds a long
		// stretch of it (about 2·sqrt((d+2r)² - d²) of it).
		stretch := 2 * math.Sqrt((dm+2*radius)*(dm+2*radius)-dm*dm)
		if stretch/(l.length/float64(len(l.edges))) > maxCutEdges {
			return l, dm
		}
		limit := s1.ChordAngleFromAngle(d.Angle() + 2*angle(radius)).Successor()
		q := s2.NewClosestEdgeQuery(l.index, s2.NewClosestEdgeQueryOptions().DistanceLimit(limit))
		for _, r := range q.FindEdges(s2.NewMinDistanceToPointTarget(x)) {
			sub.edges = append(sub.edges, l.edges[l.shapes[r.ShapeID()]+int(r.EdgeID())])
		}
		return sub, dm
	}
	// Two passes over the parent's edges, so as not to hold their distances.
	best := s1.InfChordAngle()
	for _, e := range l.edges {
		best, _ = s2.UpdateMinDistance(x, e.a, e.b, best)
	}
	limit := s1.ChordAngleFromAngle(best.Angle() + 2*angle(radius)).Successor()
	for _, e := range l.edges {
		if _, ok := s2.UpdateMinDistance(x, e.a, e.b, limit); ok {
			sub.edges = append(sub.edges, e)
		}
	}
	return sub, metres(best.Angle())
}

// maxCutEdges bounds the edges Near collects from the index in one query.
const maxCutEdges = 4096

// Densify returns the line with vertices added so that no edge is longer than
// maxEdge metres. The new vertices lie on the original geodesic edges.
func (l *Line) Densify(maxEdge float64) *Line {
	parts := make([][]Point, len(l.parts))
	for i, part := range l.parts {
		parts[i] = densifyPath(part, maxEdge, false)
	}
	out, err := NewLine(parts)
	if err != nil {
		panic(err) // densifying a valid line keeps it valid
	}
	return out
}

// densifyPath inserts points along each geodesic edge of pts so that no edge
// exceeds maxEdge metres. With closed set, the edge from the last point back
// to the first is densified too (the closing vertex is not repeated).
func densifyPath(pts []Point, maxEdge float64, closed bool) []Point {
	out := make([]Point, 0, len(pts))
	n := len(pts)
	for i := range n {
		out = append(out, pts[i])
		if i+1 == n && !closed {
			break
		}
		a, b := pts[i].s2(), pts[(i+1)%n].s2()
		k := int(metres(a.Distance(b)) / maxEdge)
		for j := 1; j <= k; j++ {
			out = append(out, fromS2(s2.Interpolate(float64(j)/float64(k+1), a, b)))
		}
	}
	return out
}

// CheckSimple reports where a line crosses itself, or nil when it does not.
func CheckSimple(l *Line) error {
	pl, err := PlaneFor(l.bound)
	if err != nil {
		return err
	}
	for i, part := range l.parts {
		flat := make([]float64, 0, 2*len(part))
		for _, p := range part {
			xy := pl.xy(p.s2())
			flat = append(flat, xy.X, xy.Y)
		}
		ls := geom.NewLineString(geom.NewSequence(flat, geom.DimXY))
		if !ls.IsSimple() {
			return fmt.Errorf("part %d crosses or touches itself", i)
		}
	}
	return nil
}

// SideSettled reports whether every point within r metres of c is on the
// same side of the line as c, where d is c's distance to the line. Sides
// change across the line itself and, beyond each end, across the great
// circle that carries the end edge.
func (l *Line) SideSettled(c Point, r, d float64) bool {
	if d <= r {
		return false
	}
	x := c.s2()
	for _, e := range l.edges {
		for _, end := range [2]struct {
			v  s2.Point
			is bool
		}{{e.a, !e.hasPrev}, {e.b, !e.hasNext}} {
			if !end.is || metres(x.Distance(end.v)) > d+2*r {
				continue // not an end, or too far to be any disc point's nearest vertex
			}
			n := e.a.PointCross(e.b).Normalize()
			if metres(s1.Angle(math.Abs(math.Asin(x.Dot(n))))) <= r {
				return false
			}
		}
	}
	return true
}

// Simplify returns a line with a subset of l's vertices that stays within
// eps metres of l everywhere (Ramer-Douglas-Peucker in a gnomonic plane,
// where straight lines are geodesics and distances are no shorter than on
// the sphere). So for every point p, |l.Distance(p) - s.Distance(p)| <= eps.
func (l *Line) Simplify(eps float64) *Line {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, ok := l.simplified[eps]; ok {
		return s
	}
	s := l.simplify(eps)
	if l.simplified == nil {
		l.simplified = map[float64]*Line{}
	}
	l.simplified[eps] = s
	return s
}

func (l *Line) simplify(eps float64) *Line {
	pl, err := PlaneFor(l.bound)
	if err != nil {
		return l
	}
	parts := make([][]Point, 0, len(l.parts))
	for _, part := range l.parts {
		flat := make([]float64, 0, 2*len(part))
		orig := make(map[geom.XY]Point, len(part))
		for _, p := range part {
			xy := pl.xy(p.s2())
			flat = append(flat, xy.X, xy.Y)
			orig[xy] = p
		}
		seq := geom.NewLineString(geom.NewSequence(flat, geom.DimXY)).Simplify(eps).Coordinates()
		if seq.Length() < 2 {
			parts = append(parts, part)
			continue
		}
		kept := make([]Point, 0, seq.Length())
		for i := range seq.Length() {
			p, ok := orig[seq.GetXY(i)]
			if !ok {
				kept = nil
				break
			}
			kept = append(kept, p)
		}
		if kept == nil {
			kept = part
		}
		parts = append(parts, kept)
	}
	s, err := NewLine(parts)
	if err != nil {
		return l
	}
	return s
}
