package agreement

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/geoindex"
	"github.com/truce-dev/truce/internal/truce"
)

// Place is the classification of a point: whose side it is on, which zones
// hold it and which sector. Places are shared and must not be modified.
type Place struct {
	Side   int   // index into Agreement.Parties, or -1 for no party's side
	Sector int   // index into Agreement.Sectors, or -1
	Zones  []int // indexes into Agreement.Zones, ascending
}

// An Index classifies points against an agreement at millions of points per
// second: a geoindex.Grid answers most points from a table, and exact
// geometry, narrowed to the few edges and shapes near the point, decides
// the rest. Its answers equal Locate's. Safe for concurrent use.
type Index struct {
	a    *truce.Agreement
	grid *geoindex.Grid

	places atomic.Pointer[[]*Place] // by class; grows copy-on-write
	mu     sync.Mutex
	byKey  map[string]geoindex.Class
	slack  float64 // how far the simplified line may stray from the line, in metres
}

// bandSlack is how far, in metres, the simplified line that decides band
// zones may stray from the line. Points closer than this to a band's edge
// are measured against the full line.
const bandSlack = 5

// IndexOptions tune an Index; zero values take the defaults.
type IndexOptions = geoindex.Options

// NewIndex builds an Index for a.
func NewIndex(a *truce.Agreement, opt IndexOptions) *Index {
	x := &Index{a: a, byKey: map[string]geoindex.Class{}, slack: bandSlack}
	x.places.Store(&[]*Place{})
	root := &field{x: x, line: a.Line, side: -1, sector: -1}
	if a.Line != nil {
		root.approx = a.Line.Simplify(bandSlack)
	}
	for i := range a.Parties {
		if ca := a.Parties[i].ControlArea; ca != nil {
			root.sideCands = append(root.sideCands, cand{i, ca})
		}
	}
	reach := 0.0
	for i := range a.Zones {
		z := &a.Zones[i]
		if z.IsBand() {
			for _, t := range z.Distance {
				reach = max(reach, t)
			}
		} else if z.Area != nil {
			root.maybe = append(root.maybe, cand{i, z.Area})
		} else {
			root.maybe = append(root.maybe, cand{i: i}) // a site: tested as a disc
		}
	}
	for i := range a.Sectors {
		root.sectorCands = append(root.sectorCands, cand{i, a.Sectors[i].Area})
	}
	root.sectorKnown = len(a.Sectors) == 0
	bound := Bound(a).Expand(reach + 10e3)
	x.grid = geoindex.NewGrid(bound, root, opt)
	return x
}

// Classify returns the place of p.
func (x *Index) Classify(p geo.Point) *Place {
	c := x.grid.Lookup(p)
	return (*x.places.Load())[c]
}

// Stats reports how the index's grid resolved the agreement's area.
func (x *Index) Stats() geoindex.Stats { return x.grid.Stats() }

// intern returns the class of a place, adding it if new.
func (x *Index) intern(side, sector int, zones []int) geoindex.Class {
	var buf [256]byte
	key := append(buf[:0], byte(side+1), byte(sector+1), byte((sector+1)>>8))
	for _, z := range zones {
		key = append(key, byte(z), byte(z>>8))
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if c, ok := x.byKey[string(key)]; ok {
		return c
	}
	old := *x.places.Load()
	c := geoindex.Class(len(old))
	next := append(slices.Clip(old), &Place{Side: side, Sector: sector, Zones: slices.Clone(zones)})
	x.places.Store(&next)
	x.byKey[string(key)] = c
	return c
}

// field is the agreement seen as a geoindex.Field, narrowed to a disc: it
// keeps only what is still undecided there, with each area cut down to the
// boundary edges that pass through the disc.
type field struct {
	x *Index
	// line holds the edges of the line that can be closest inside the
	// disc; it is narrowed only where the side of the line is in question.
	line *geo.Line
	// approx is the simplified line (within slack metres of the line),
	// narrowed to the disc, that decides the bands: far from the line a
	// dense line has too many nearly equidistant edges to narrow well.
	approx *geo.Line

	sideKnown bool
	side      int
	sideCands []cand // control areas whose boundary passes through the disc, in party order

	needDist bool  // some band zone is undecided: measure the distance
	bandsIn  []int // band zones that hold the whole disc (when !needDist)

	zonesIn []int  // area and site zones that hold the whole disc
	maybe   []cand // area and site zones whose edge passes through the disc

	sectorKnown bool
	sector      int
	sectorCands []cand
}

// cand is a party, zone or sector index with its area narrowed to the disc
// (nil for protected sites, which are tested as discs).
type cand struct {
	i    int
	area geo.Area
}

var _ geoindex.Field = (*field)(nil)

func (f *field) Cover(c geo.Point, r float64) (geoindex.Class, bool, geoindex.Field) {
	a := f.x.a
	// n is the field narrowed to the disc. It stays on the stack unless the
	// disc is undecided; its slices share the parent's arrays until they
	// grow (slices.Clip makes an append copy), so deciding a disc usually
	// allocates nothing.
	n := field{x: f.x, line: f.line, approx: f.approx, side: f.side, sideKnown: f.sideKnown, sector: f.sector, sectorKnown: f.sectorKnown}
	n.zonesIn = slices.Clip(f.zonesIn)
	slack := f.x.slack

	// measure returns the distance from c to the simplified line, which is
	// within slack of the distance to the line.
	dist, haveDist := 0.0, false
	measure := func() float64 {
		if !haveDist && f.approx != nil {
			n.approx, dist = f.approx.Near(c, r+slack)
			haveDist = true
		}
		return dist
	}

	// Side.
	if !n.sideKnown {
		if len(f.sideCands) > 0 { // control areas
			holder := -1
			for _, cd := range f.sideCands {
				switch rel, area := relateArea(cd.area, c, r); rel {
				case partly:
					n.sideCands = append(n.sideCands, cand{cd.i, area})
				case inside:
					if holder < 0 {
						holder = cd.i
					}
				}
			}
			if len(n.sideCands) == 0 {
				n.sideKnown, n.side = true, holder
			} else if holder >= 0 { // overlapping areas (within tolerance): keep the holder in party order
				n.sideCands = append(n.sideCands, cand{holder, a.Parties[holder].ControlArea})
				slices.SortFunc(n.sideCands, func(x, y cand) int { return x.i - y.i })
			}
		} else if f.line != nil { // sides of the line
			var d float64
			n.line, d = f.line.Near(c, r)
			if n.line.SideSettled(c, r, d) {
				n.sideKnown, n.side = true, sideAt(a, c, n.line.Closest(c).Side)
			}
		} else {
			n.sideKnown = true
		}
	}

	// Bands along the line.
	for i := range a.Zones {
		z := &a.Zones[i]
		if !z.IsBand() || f.line == nil {
			continue
		}
		if f.sideKnown && !f.needDist { // the parent disc decided every band already
			n.bandsIn = f.bandsIn
			break
		}
		if n.sideKnown {
			if n.side < 0 {
				continue
			}
			t, ok := z.Distance[a.Parties[n.side].ID]
			if !ok {
				continue
			}
			d := measure()
			switch {
			case d+slack+r <= t:
				n.bandsIn = append(n.bandsIn, i)
			case d-slack-r > t:
			default:
				n.needDist = true
			}
		} else {
			for _, t := range z.Distance {
				if measure()-slack-r <= t {
					n.needDist = true
				}
			}
		}
	}
	if n.needDist {
		n.bandsIn = nil
		measure() // narrow the simplified line for At
	}

	// Area and site zones.
	for _, cd := range f.maybe {
		z := &a.Zones[cd.i]
		var rel relation
		var area geo.Area
		if z.Site != nil {
			rel = relateSite(z.Site.Cap, c, r)
		} else {
			rel, area = relateArea(cd.area, c, r)
		}
		switch rel {
		case inside:
			n.zonesIn = append(n.zonesIn, cd.i)
		case partly:
			n.maybe = append(n.maybe, cand{cd.i, area})
		}
	}

	// Sector.
	if !n.sectorKnown {
		holder := -1
		for _, cd := range f.sectorCands {
			switch rel, area := relateArea(cd.area, c, r); rel {
			case inside:
				if holder < 0 {
					holder = cd.i
				}
			case partly:
				n.sectorCands = append(n.sectorCands, cand{cd.i, area})
			}
		}
		if len(n.sectorCands) == 0 {
			n.sectorKnown, n.sector = true, holder
		} else if holder >= 0 {
			n.sectorCands = append(n.sectorCands, cand{holder, a.Sectors[holder].Area})
			slices.SortFunc(n.sectorCands, func(x, y cand) int { return x.i - y.i })
		}
	}

	if n.sideKnown && !n.needDist && len(n.maybe) == 0 && n.sectorKnown {
		var buf [64]int
		zones := append(append(buf[:0], n.zonesIn...), n.bandsIn...)
		slices.Sort(zones)
		return f.x.intern(n.side, n.sector, zones), true, nil
	}
	if !slices.IsSorted(n.zonesIn) {
		n.zonesIn = slices.Sorted(slices.Values(n.zonesIn))
	}
	out := n
	return 0, false, &out
}

func (f *field) At(p geo.Point) geoindex.Class {
	a := f.x.a
	side := f.side
	var near geo.Nearest
	haveNear := false
	if !f.sideKnown {
		if len(f.sideCands) > 0 {
			side = -1
			for _, cd := range f.sideCands {
				if cd.area.Contains(p) {
					side = cd.i
					break
				}
			}
		} else if f.line != nil {
			near, haveNear = f.line.Closest(p), true
			side = sideAt(a, p, near.Side)
		}
	}
	var buf [64]int
	zones := append(buf[:0], f.zonesIn...)
	if f.needDist {
		d, exact := near.Distance, haveNear
		if !exact {
			d = f.approx.Distance(p)
		}
		for i := range a.Zones {
			z := &a.Zones[i]
			if !z.IsBand() || side < 0 {
				continue
			}
			t, ok := z.Distance[a.Parties[side].ID]
			if !ok {
				continue
			}
			if !exact && math.Abs(d-t) <= f.x.slack { // too close to call on the simplified line
				d, exact = a.Line.Distance(p), true
			}
			if d <= t {
				zones = append(zones, i)
			}
		}
	} else {
		zones = append(zones, f.bandsIn...)
	}
	for _, cd := range f.maybe {
		z := &a.Zones[cd.i]
		if z.Site != nil && z.Site.Cap.Contains(p) || z.Site == nil && cd.area.Contains(p) {
			zones = append(zones, cd.i)
		}
	}
	slices.Sort(zones)
	sector := f.sector
	if !f.sectorKnown {
		sector = -1
		for _, cd := range f.sectorCands {
			if cd.area.Contains(p) {
				sector = cd.i
				break
			}
		}
	}
	return f.x.intern(side, sector, zones)
}

type relation int

const (
	outside relation = iota
	inside
	partly
)

// relateSite says whether a protected site's disc holds all, none or part
// of the disc of radius r metres around c.
func relateSite(site geo.Cap, c geo.Point, r float64) relation {
	d := geo.Distance(c, site.Center)
	switch {
	case d+r <= site.Radius:
		return inside
	case d-r > site.Radius:
		return outside
	}
	return partly
}

// relateArea says whether an area holds all, none or part of the disc of
// radius r metres around c, and for part, returns the area narrowed to it.
func relateArea(area geo.Area, c geo.Point, r float64) (relation, geo.Area) {
	if reg, ok := area.(*geo.Region); ok && !reg.Bound().Expand(r).Contains(c) {
		return outside, nil
	}
	if area.BoundaryWithin(c, r) {
		return partly, area.Near(c, r)
	}
	if area.Contains(c) {
		return inside, nil
	}
	return outside, nil
}
