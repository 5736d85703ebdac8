package agreement

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// ZonePiece is the part of a zone that lies on one party's side of the line.
type ZonePiece struct {
	Zone *truce.Zone
	// Side is the party whose side this piece is on, or "" for the part of
	// an area or site zone on no party's side.
	Side truce.PartyID
	// Distance is the band's width on this side in metres (band zones only).
	Distance float64
	Polygons geo.MultiPolygon
	// Area in square metres.
	Area float64
}

// Shapes computes the polygons of every zone, split by side. Band edges and
// circles are drawn within tol metres of the true boundary; long edges are
// densified so that drawing them straight in lon/lat stays within metres of
// the geodesic.
type Shapes struct {
	Pieces []ZonePiece
	// Sides holds each party's side as polygons, in party order. For
	// parties given as a side of the line, this is the side within reach
	// of the line.
	Sides []geo.MultiPolygon
}

// densifyEdge is the longest edge written out, in metres.
const densifyEdge = 5e3

// ZoneShapes returns the polygons of every zone of a, split by party side.
func ZoneShapes(a *truce.Agreement, tol float64) (*Shapes, error) {
	pl, err := geo.PlaneFor(Bound(a).Expand(maxBand(a) + 20e3))
	if err != nil {
		return nil, err
	}
	sh := &Shapes{Sides: make([]geo.MultiPolygon, len(a.Parties))}
	if err := sh.sides(pl, a); err != nil {
		return nil, err
	}
	buffers, err := bandBuffers(pl, a, tol)
	if err != nil {
		return nil, err
	}
	type bandSide struct {
		width float64
		side  int
	}
	bands := map[bandSide]geo.MultiPolygon{} // zones of equal width share their pieces
	for i := range a.Zones {
		z := &a.Zones[i]
		switch {
		case z.IsBand():
			for pi, p := range a.Parties {
				t, ok := z.Distance[p.ID]
				if !ok {
					continue
				}
				piece, ok := bands[bandSide{t, pi}]
				if !ok {
					if piece, err = pl.Intersection(buffers[t], sh.Sides[pi]); err != nil {
						return nil, fmt.Errorf("zone %s side %s: %w", z.ID, p.ID, err)
					}
					bands[bandSide{t, pi}] = piece
				}
				sh.add(z, p.ID, t, piece)
			}
		default:
			shape := z.Polygons(tol)
			rest := shape
			for pi, p := range a.Parties {
				piece, err := pl.Intersection(shape, sh.Sides[pi])
				if err != nil {
					return nil, fmt.Errorf("zone %s side %s: %w", z.ID, p.ID, err)
				}
				sh.add(z, p.ID, 0, piece)
				if rest, err = pl.Difference(rest, sh.Sides[pi]); err != nil {
					return nil, fmt.Errorf("zone %s: %w", z.ID, err)
				}
			}
			sh.add(z, "", 0, rest)
		}
	}
	return sh, nil
}

// bandBuffers buffers the line by every band width in the agreement, the
// widths in parallel.
func bandBuffers(pl geo.Plane, a *truce.Agreement, tol float64) (map[float64]geo.MultiPolygon, error) {
	var widths []float64
	for _, z := range a.Zones {
		for _, t := range z.Distance {
			if !slices.Contains(widths, t) {
				widths = append(widths, t)
			}
		}
	}
	bufs := make([]geo.MultiPolygon, len(widths))
	errs := make([]error, len(widths))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, t := range widths {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			bufs[i], errs[i] = pl.Buffer(a.Line, t, tol)
		})
	}
	wg.Wait()
	out := make(map[float64]geo.MultiPolygon, len(widths))
	for i, t := range widths {
		if errs[i] != nil {
			return nil, fmt.Errorf("buffer of %g km: %w", t/1e3, errs[i])
		}
		out[t] = bufs[i]
	}
	return out, nil
}

func (sh *Shapes) add(z *truce.Zone, side truce.PartyID, dist float64, mp geo.MultiPolygon) {
	area := mp.Area()
	if area < 1 { // slivers from shared boundaries
		return
	}
	// Densifying adds vertices on the geodesic edges: the area stays.
	sh.Pieces = append(sh.Pieces, ZonePiece{Zone: z, Side: side, Distance: dist, Polygons: mp.Densify(densifyEdge), Area: area})
}

// sides fills in each party's side as polygons.
func (sh *Shapes) sides(pl geo.Plane, a *truce.Agreement) error {
	if len(a.Parties) > 0 && a.Parties[0].ControlArea != nil {
		for i, p := range a.Parties {
			sh.Sides[i] = p.ControlArea.Polygons()
		}
		return nil
	}
	// Sides of the line: split the ground within reach of the line.
	reach := maxBand(a)
	for _, z := range a.Zones {
		if !z.IsBand() {
			for _, ring := range z.Polygons(100) {
				for _, r := range ring {
					for _, p := range r {
						reach = max(reach, a.Line.Distance(p))
					}
				}
			}
		}
	}
	reach += 10e3
	ground, err := pl.Buffer(a.Line, reach, 100)
	if err != nil {
		return err
	}
	left, right, err := pl.Halves(a.Line, ground, 2*reach)
	if err != nil {
		return err
	}
	for i, p := range a.Parties {
		if p.LineSide == geo.Left {
			sh.Sides[i] = left
		} else {
			sh.Sides[i] = right
		}
	}
	return nil
}

func maxBand(a *truce.Agreement) float64 {
	m := 0.0
	for _, z := range a.Zones {
		for _, t := range z.Distance {
			m = max(m, t)
		}
	}
	return m
}

// ZoneArea returns the total area of a zone's pieces in square metres.
func (sh *Shapes) ZoneArea(z *truce.Zone) float64 {
	total := 0.0
	for _, p := range sh.Pieces {
		if p.Zone == z {
			total += p.Area
		}
	}
	return total
}

// SideAreas returns a zone's area per side, in party order then "".
func (sh *Shapes) SideAreas(z *truce.Zone) []ZonePiece {
	return slices.DeleteFunc(slices.Clone(sh.Pieces), func(p ZonePiece) bool { return p.Zone != z })
}
