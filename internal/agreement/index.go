package agreement

import (
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
	sealed bool // set once the grid is built: later classes come from At on leaves
}

// IndexOptions tune an Index; zero values take the defaults.
type IndexOptions = geoindex.Options

// NewIndex builds an Index for a.
func NewIndex(a *truce.Agreement, opt IndexOptions) *Index {
	x := &Index{a: a, byKey: map[string]geoindex.Class{}}
	x.places.Store(&[]*Place{})
	root := &field{x: x, line: a.Line, side: -1, sector: -1}
	for i := range a.Parties {
		if a.Parties[i].ControlArea != nil {
			root.sideCands = append(root.sideCands, i)
		}
	}
	reach := 0.0
	for i := range a.Zones {
		z := &a.Zones[i]
		if z.IsBand() {
			for _, t := range z.Distance {
				reach = max(reach, t)
			}
		} else {
			root.maybe = append(root.maybe, i)
		}
	}
	root.sectorCands = allIndexes(len(a.Sectors))
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
// keeps only what is still undecided there.
type field struct {
	x    *Index
	line *geo.Line // the edges that can be closest inside the disc

	sideKnown bool
	side      int
	sideCands []int // control-area parties whose boundary passes near; tested in order

	needDist bool  // some band zone is undecided: measure the distance
	bandsIn  []int // band zones that hold the whole disc (when !needDist)

	zonesIn []int // area and site zones that hold the whole disc
	maybe   []int // area and site zones whose edge passes through the disc

	sectorKnown bool
	sector      int
	sectorCands []int
}

var _ geoindex.Field = (*field)(nil)

func (f *field) Cover(c geo.Point, r float64) (geoindex.Class, bool, geoindex.Field) {
	a := f.x.a
	n := &field{x: f.x, line: f.line, side: f.side, sideKnown: f.sideKnown, sector: f.sector, sectorKnown: f.sectorKnown}
	n.zonesIn = slices.Clone(f.zonesIn)

	dist, haveDist := 0.0, false
	measure := func() float64 {
		if !haveDist && f.line != nil {
			n.line, dist = f.line.Near(c, r)
			haveDist = true
		}
		return dist
	}

	// Side.
	if !n.sideKnown {
		if len(f.sideCands) > 0 { // control areas
			holder := -1
			for _, i := range f.sideCands {
				reg := a.Parties[i].ControlArea
				switch {
				case !reg.Bound().Expand(r).Contains(c):
				case reg.BoundaryWithin(c, r):
					n.sideCands = append(n.sideCands, i)
				case reg.Contains(c) && holder < 0:
					holder = i
				}
			}
			if len(n.sideCands) == 0 {
				n.sideKnown, n.side = true, holder
			} else if holder >= 0 {
				n.sideCands = append(n.sideCands, holder)
				slices.Sort(n.sideCands)
			}
		} else if f.line != nil { // sides of the line
			d := measure()
			clear := d > r
			for _, e := range f.line.Ends() {
				clear = clear && geo.Distance(c, e) > d+2*r
			}
			if clear {
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
			if slices.Contains(f.bandsIn, i) {
				n.bandsIn = append(n.bandsIn, i)
			}
			continue
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
			case d+r <= t:
				n.bandsIn = append(n.bandsIn, i)
			case d-r > t:
			default:
				n.needDist = true
			}
		} else {
			for _, t := range z.Distance {
				if measure()-r <= t {
					n.needDist = true
				}
			}
		}
	}
	if n.needDist {
		n.bandsIn = nil
		measure() // narrow the line for At
	}

	// Area and site zones.
	for _, i := range f.maybe {
		switch relate(&a.Zones[i], c, r) {
		case inside:
			n.zonesIn = append(n.zonesIn, i)
		case partly:
			n.maybe = append(n.maybe, i)
		}
	}

	// Sector.
	if !n.sectorKnown {
		holder := -1
		for _, i := range f.sectorCands {
			switch relateRegion(a.Sectors[i].Area, c, r) {
			case inside:
				if holder < 0 {
					holder = i
				}
			case partly:
				n.sectorCands = append(n.sectorCands, i)
			}
		}
		if len(n.sectorCands) == 0 {
			n.sectorKnown, n.sector = true, holder
		} else if holder >= 0 {
			n.sectorCands = append(n.sectorCands, holder)
			slices.Sort(n.sectorCands)
		}
	}

	if n.sideKnown && !n.needDist && len(n.maybe) == 0 && n.sectorKnown {
		zones := append(slices.Clone(n.zonesIn), n.bandsIn...)
		slices.Sort(zones)
		return f.x.intern(n.side, n.sector, zones), true, nil
	}
	slices.Sort(n.zonesIn)
	return 0, false, n
}

func (f *field) At(p geo.Point) geoindex.Class {
	a := f.x.a
	side := f.side
	var near geo.Nearest
	haveNear := false
	if !f.sideKnown {
		if len(f.sideCands) > 0 {
			side = f.firstContaining(p)
		} else if f.line != nil {
			near, haveNear = f.line.Closest(p), true
			side = sideAt(a, p, near.Side)
		}
	}
	var buf [64]int
	zones := append(buf[:0], f.zonesIn...)
	if f.needDist {
		d := near.Distance
		if !haveNear {
			d = f.line.Distance(p)
		}
		for i := range a.Zones {
			if z := &a.Zones[i]; z.IsBand() && inBand(a, z, side, d) {
				zones = append(zones, i)
			}
		}
	} else {
		zones = append(zones, f.bandsIn...)
	}
	for _, i := range f.maybe {
		if inShape(&a.Zones[i], p) {
			zones = append(zones, i)
		}
	}
	slices.Sort(zones)
	sector := f.sector
	if !f.sectorKnown {
		sector = sectorAt(a, p, f.sectorCands)
	}
	return f.x.intern(side, sector, zones)
}

func (f *field) firstContaining(p geo.Point) int {
	for _, i := range f.sideCands {
		if f.x.a.Parties[i].ControlArea.Contains(p) {
			return i
		}
	}
	return -1
}

type relation int

const (
	outside relation = iota
	inside
	partly
)

// relate says whether an area or site zone holds all, none or part of the
// disc of radius r metres around c.
func relate(z *truce.Zone, c geo.Point, r float64) relation {
	if z.Site != nil {
		d := geo.Distance(c, z.Site.Cap.Center)
		switch {
		case d+r <= z.Site.Cap.Radius:
			return inside
		case d-r > z.Site.Cap.Radius:
			return outside
		}
		return partly
	}
	return relateRegion(z.Area, c, r)
}

func relateRegion(reg *geo.Region, c geo.Point, r float64) relation {
	switch {
	case !reg.Bound().Expand(r).Contains(c):
		return outside
	case reg.BoundaryWithin(c, r):
		return partly
	case reg.Contains(c):
		return inside
	}
	return outside
}
