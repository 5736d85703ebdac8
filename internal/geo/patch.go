package geo

import "github.com/golang/geo/s2"

// An Area answers containment and boundary-proximity questions. A Region
// is an Area everywhere; a Patch is an Area only inside the disc it was cut
// for, where it is exact and usually much cheaper.
type Area interface {
	// Contains reports whether p lies inside the area.
	Contains(p Point) bool
	// BoundaryWithin reports whether the area's boundary comes within m
	// metres of p.
	BoundaryWithin(p Point, m float64) bool
	// Near returns an Area that is exact inside the disc of r metres
	// around c: for Contains of points in it, and for BoundaryWithin of
	// discs inside it.
	Near(c Point, r float64) Area
}

var (
	_ Area = (*Region)(nil)
	_ Area = (*Patch)(nil)
)

// maxPatchEdges is the number of boundary edges above which cutting a
// Patch does not pay: the indexed Region is used instead.
const maxPatchEdges = 256

// A Patch is the part of a region's boundary that passes through a disc,
// with the disc's centre and whether it is inside: enough to decide
// containment for any point of the disc by counting boundary crossings
// from the centre, the way S2 decides it from a cell's centre.
type Patch struct {
	edges []s2.Edge
	ref   s2.Point
	refIn bool
}

// Near cuts a Patch of r for the disc of radius rad metres around c, or
// returns r itself when its boundary is too busy there.
func (r *Region) Near(c Point, rad float64) Area {
	x := c.s2()
	q := s2.NewClosestEdgeQuery(r.edges, s2.NewClosestEdgeQueryOptions().IncludeInteriors(false).DistanceLimit(chord(rad).Successor()).MaxResults(maxPatchEdges+1))
	res := q.FindEdges(s2.NewMinDistanceToPointTarget(x))
	if len(res) > maxPatchEdges {
		return r
	}
	p := &Patch{ref: x, refIn: r.sp.ContainsPoint(x), edges: make([]s2.Edge, len(res))}
	for i, e := range res {
		p.edges[i] = r.edges.Shape(e.ShapeID()).Edge(int(e.EdgeID()))
	}
	return p
}

// Contains reports whether p lies inside the region; p must lie within
// the disc the patch was cut for.
func (p *Patch) Contains(pt Point) bool {
	x := pt.s2()
	in := p.refIn
	if len(p.edges) == 0 {
		return in
	}
	cr := s2.NewEdgeCrosser(p.ref, x)
	for _, e := range p.edges {
		if cr.EdgeOrVertexCrossing(e.V0, e.V1) {
			in = !in
		}
	}
	return in
}

// BoundaryWithin reports whether the boundary comes within m metres of pt.
func (p *Patch) BoundaryWithin(pt Point, m float64) bool {
	x := pt.s2()
	limit := chord(m).Successor()
	for _, e := range p.edges {
		if _, ok := s2.UpdateMinDistance(x, e.V0, e.V1, limit); ok {
			return true
		}
	}
	return false
}

// Near cuts a smaller patch for a disc inside this one.
func (p *Patch) Near(c Point, rad float64) Area {
	x := c.s2()
	n := &Patch{ref: x, refIn: p.Contains(c)}
	limit := chord(rad).Successor()
	for _, e := range p.edges {
		if _, ok := s2.UpdateMinDistance(x, e.V0, e.V1, limit); ok {
			n.edges = append(n.edges, e)
		}
	}
	return n
}
