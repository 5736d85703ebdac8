package geo

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
	"github.com/peterstace/simplefeatures/geom"
)

// A Plane is a gnomonic projection centred on a point of the Earth. It maps
// every geodesic to a straight line, so planar polygon overlay in it is exact
// on the sphere. Plane coordinates are in metres at the centre.
type Plane struct {
	c, e1, e2 r3.Vector
}

// maxPlaneReach is how far from its centre a Plane accepts geometry: beyond
// about a fifth of the globe the gnomonic scale grows too fast to be useful.
const maxPlaneReach = 4000e3

// PlaneFor returns a Plane centred on the middle of r, or an error when r is
// too large for one plane.
func PlaneFor(r Rect) (Plane, error) {
	c := Pt((r.MinLat+r.MaxLat)/2, (r.MinLon+r.MaxLon)/2)
	for _, corner := range []Point{Pt(r.MinLat, r.MinLon), Pt(r.MinLat, r.MaxLon), Pt(r.MaxLat, r.MinLon), Pt(r.MaxLat, r.MaxLon)} {
		if d := Distance(c, corner); d > maxPlaneReach {
			return Plane{}, fmt.Errorf("geometry spans %.0f km from its centre; at most %.0f km is supported", d/1e3, maxPlaneReach/1e3)
		}
	}
	return NewPlane(c), nil
}

// NewPlane returns the gnomonic Plane centred on c.
func NewPlane(c Point) Plane {
	v := c.s2().Vector
	north := r3.Vector{X: 0, Y: 0, Z: 1}.Sub(v.Mul(v.Z))
	if north.Norm2() < 1e-20 {
		north = s2.Ortho(s2.Point{Vector: v}).Vector
	}
	north = north.Normalize()
	east := north.Cross(v).Normalize()
	return Plane{c: v, e1: east, e2: north}
}

func (pl Plane) xy(p s2.Point) geom.XY {
	d := p.Dot(pl.c)
	return geom.XY{X: EarthRadius * p.Dot(pl.e1) / d, Y: EarthRadius * p.Dot(pl.e2) / d}
}

func (pl Plane) point(xy geom.XY) Point {
	v := pl.c.Add(pl.e1.Mul(xy.X / EarthRadius)).Add(pl.e2.Mul(xy.Y / EarthRadius))
	return fromS2(s2.Point{Vector: v.Normalize()})
}

func (pl Plane) ring(r Ring) geom.LineString {
	flat := make([]float64, 0, 2*len(r)+2)
	for _, p := range r {
		xy := pl.xy(p.s2())
		flat = append(flat, xy.X, xy.Y)
	}
	flat = append(flat, flat[0], flat[1])
	return geom.NewLineString(geom.NewSequence(flat, geom.DimXY))
}

func (pl Plane) polygon(p Polygon) geom.Polygon {
	rings := make([]geom.LineString, len(p))
	for i, r := range p {
		rings[i] = pl.ring(r)
	}
	return geom.NewPolygon(rings)
}

func (pl Plane) geometry(m MultiPolygon) geom.Geometry {
	polys := make([]geom.Polygon, len(m))
	for i, p := range m {
		polys[i] = pl.polygon(p)
	}
	return geom.NewMultiPolygon(polys).AsGeometry()
}

func (pl Plane) fromGeometry(g geom.Geometry) MultiPolygon {
	var out MultiPolygon
	for _, part := range g.Dump() {
		p, ok := part.AsPolygon()
		if !ok || p.IsEmpty() {
			continue
		}
		var poly Polygon
		for _, r := range ringsOf(p) {
			seq := r.Coordinates()
			ring := make(Ring, 0, seq.Length())
			for j := range seq.Length() - 1 { // drop the closing vertex
				ring = append(ring, pl.point(seq.GetXY(j)))
			}
			poly = append(poly, ring)
		}
		out = append(out, poly)
	}
	return out
}

var nearXY = regexp.MustCompile(`\(at or near \{?(\S+?) (\S+?)\}?\)`)

// validate checks m for rings that cross themselves or each other, holes
// outside their shell and overlapping polygons, naming a location in degrees.
func (pl Plane) validate(m MultiPolygon) error {
	explain := func(err error) string {
		msg := strings.ReplaceAll(err.Error(), "validating ring at index ", "ring ")
		return nearXY.ReplaceAllStringFunc(msg, func(s string) string {
			sub := nearXY.FindStringSubmatch(s)
			x, err1 := strconv.ParseFloat(sub[1], 64)
			y, err2 := strconv.ParseFloat(sub[2], 64)
			if err1 != nil || err2 != nil {
				return s
			}
			return "near " + pl.point(geom.XY{X: x, Y: y}).String()
		})
	}
	for i, p := range m {
		if err := pl.polygon(p).Validate(); err != nil {
			return fmt.Errorf("polygon %d: %s", i, explain(err))
		}
	}
	if err := pl.geometry(m).Validate(); err != nil {
		return fmt.Errorf("polygons overlap: %s", explain(err))
	}
	return nil
}

// Union returns the union of the given multipolygons.
func (pl Plane) Union(ms ...MultiPolygon) (MultiPolygon, error) {
	gs := make([]geom.Geometry, len(ms))
	for i, m := range ms {
		gs[i] = pl.geometry(m)
	}
	g, err := geom.UnionMany(gs)
	if err != nil {
		return nil, fmt.Errorf("union: %w", err)
	}
	return pl.fromGeometry(g), nil
}

// Intersection returns the part of a that lies inside b.
func (pl Plane) Intersection(a, b MultiPolygon) (MultiPolygon, error) {
	g, err := geom.Intersection(pl.geometry(a), pl.geometry(b))
	if err != nil {
		return nil, fmt.Errorf("intersection: %w", err)
	}
	return pl.fromGeometry(g), nil
}

// Difference returns the part of a that lies outside b.
func (pl Plane) Difference(a, b MultiPolygon) (MultiPolygon, error) {
	g, err := geom.Difference(pl.geometry(a), pl.geometry(b))
	if err != nil {
		return nil, fmt.Errorf("difference: %w", err)
	}
	return pl.fromGeometry(g), nil
}

// Area returns the area of m in square metres, measured on the sphere.
func (m MultiPolygon) Area() float64 {
	total := 0.0
	for _, poly := range m {
		for i, ring := range poly {
			a := loopOf(ring).Area() * EarthRadius * EarthRadius
			if i == 0 {
				total += a
			} else {
				total -= a
			}
		}
	}
	return total
}

// arcSteps returns how many vertices a polygon inscribed in a circle of the
// given radius needs, over the given angle, to stay within tol of the arc.
func arcSteps(radius, tol, sweep float64) int {
	if tol >= radius {
		return 8
	}
	step := 2 * math.Acos(1-tol/radius)
	return max(8, int(math.Ceil(sweep/step)))
}

// Buffer returns every point within d metres of the line, as polygons whose
// edges stay within tol metres of the true boundary.
//
// The buffer is the union of a rectangle along each geodesic edge, a disc
// at each end, and at each vertex a wedge filling the outside of the turn;
// the line is first simplified within tol/2, so that a dense, ragged line
// yields only the pieces that change the outline.
func (pl Plane) Buffer(l *Line, d, tol float64) (MultiPolygon, error) {
	const maxStep = 50e3 // keeps each rectangle's sides within metres of the equidistant curve
	r := angle(d)
	step := 2 * math.Acos(1-min(tol/2/d, 1)) // arc step, radians, for tol/2 on the arcs
	var pieces []MultiPolygon
	for _, part := range l.Simplify(tol / 2).parts {
		pts := densifyPath(part, maxStep, false)
		vs := make([]s2.Point, len(pts))
		for i, p := range pts {
			vs[i] = p.s2()
		}
		for _, end := range []Point{pts[0], pts[len(pts)-1]} {
			pieces = append(pieces, MultiPolygon{Cap{Center: end, Radius: d}.Polygon(tol / 2)})
		}
		for i := 0; i+1 < len(vs); i++ { // in order along the line, for cascade
			a, b := vs[i], vs[i+1]
			ring := Ring{
				fromS2(s2.PointToRight(a, b, r)), fromS2(s2.PointToLeft(b, a, r)),
				fromS2(s2.PointToRight(b, a, r)), fromS2(s2.PointToLeft(a, b, r)),
			}
			pieces = append(pieces, MultiPolygon{Polygon{ring}})
			if i+2 < len(vs) {
				if w := wedge(a, b, vs[i+2], r, step); w != nil {
					pieces = append(pieces, MultiPolygon{Polygon{w}})
				}
			}
		}
	}
	return pl.cascade(pieces)
}

// cascade unions pieces that follow a line in a balanced tree of pairwise
// unions: neighbours overlap heavily, so one overlay of all of them at once
// would intersect every piece with hundreds of others.
func (pl Plane) cascade(pieces []MultiPolygon) (MultiPolygon, error) {
	if len(pieces) <= 8 {
		return pl.Union(pieces...)
	}
	h := len(pieces) / 2
	a, err := pl.cascade(pieces[:h])
	if err != nil {
		return nil, err
	}
	b, err := pl.cascade(pieces[h:])
	if err != nil {
		return nil, err
	}
	return pl.Union(a, b)
}

// minWedge is the width in metres below which the gap outside a turn is
// left open rather than filled with a sliver of a triangle.
const minWedge = 1e-3

// wedge returns the ring that fills the outside of the turn at v, between
// the offsets at distance r of the edges u-v and v-w, or nil when the
// edges are (nearly) straight on.
func wedge(u, v, w s2.Point, r s1.Angle, step float64) Ring {
	var from, to s2.Point
	switch s2.RobustSign(u, v, w) {
	case s2.CounterClockwise: // left turn: the outside is on the right
		from, to = s2.PointToLeft(v, u, r), s2.PointToRight(v, w, r)
	case s2.Clockwise:
		from, to = s2.PointToRight(v, u, r), s2.PointToLeft(v, w, r)
	default:
		return nil
	}
	c := fromS2(v)
	b0, b1 := Bearing(c, fromS2(from)), Bearing(c, fromS2(to))
	sweep := math.Remainder(b1-b0, 360) // shortest way round, in degrees
	if math.Abs(sweep)*math.Pi/180*metres(r) < minWedge {
		return nil // the notch left is narrower than a millimetre
	}
	n := int(math.Ceil(math.Abs(sweep) * math.Pi / 180 / step))
	ring := Ring{c, fromS2(from)}
	for k := 1; k < n; k++ {
		ring = append(ring, Destination(c, b0+sweep*float64(k)/float64(n), metres(r)))
	}
	return append(ring, fromS2(to))
}

// Halves splits region m by the line into the part left of it and the part
// right of it, by cutting along the line extended at both ends beyond m.
func (pl Plane) Halves(l *Line, m MultiPolygon, reach float64) (left, right MultiPolygon, err error) {
	const sliver = 0.5 // metres: half-width of the cut
	var cuts []MultiPolygon
	for _, part := range l.parts {
		n := len(part)
		ext := make([]Point, 0, n+2)
		ext = append(ext, Destination(part[0], Bearing(part[1], part[0]), reach))
		ext = append(ext, part...)
		ext = append(ext, Destination(part[n-1], Bearing(part[n-2], part[n-1]), reach))
		el, err := NewLine([][]Point{ext})
		if err != nil {
			return nil, nil, err
		}
		cut, err := pl.Buffer(el, sliver, sliver/4)
		if err != nil {
			return nil, nil, err
		}
		cuts = append(cuts, cut)
	}
	cut, err := pl.Union(cuts...)
	if err != nil {
		return nil, nil, err
	}
	pieces, err := pl.Difference(m, cut)
	if err != nil {
		return nil, nil, err
	}
	for _, poly := range pieces {
		g := pl.polygon(poly)
		xy, ok := g.PointOnSurface().XY()
		if !ok {
			continue
		}
		switch l.Closest(pl.point(xy)).Side {
		case Left:
			left = append(left, poly)
		case Right:
			right = append(right, poly)
		}
	}
	return left, right, nil
}
