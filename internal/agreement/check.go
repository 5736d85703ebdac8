package agreement

import (
	"fmt"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// overlapTolerance is the area in square metres below which two polygons
// that share a boundary are not said to overlap.
const overlapTolerance = 1000

// crossChecks runs the checks that need the whole agreement to be readable:
// its extent, overlapping control areas and overlapping sectors.
func (l *loader) crossChecks(a *truce.Agreement) {
	pl, err := geo.PlaneFor(Bound(a))
	if err != nil {
		l.add(nil, "agreement", "", "%v", err)
		return
	}
	for i := range a.Parties {
		for j := i + 1; j < len(a.Parties); j++ {
			p, q := a.Parties[i], a.Parties[j]
			if p.ControlArea == nil || q.ControlArea == nil {
				continue
			}
			if area := overlap(pl, p.ControlArea, q.ControlArea); area > overlapTolerance {
				l.add(nil, fmt.Sprintf("parties[%d] (%s)", j, q.ID), "control_area", "overlaps the control area of %s by %.2f km²", p.ID, area/1e6)
			}
		}
	}
	for i := range a.Sectors {
		for j := i + 1; j < len(a.Sectors); j++ {
			s, t := a.Sectors[i], a.Sectors[j]
			if area := overlap(pl, s.Area, t.Area); area > overlapTolerance {
				l.add(nil, fmt.Sprintf("sectors[%d] (%s)", j, t.ID), "geometry", "overlaps sector %s by %.2f km²", s.ID, area/1e6)
			}
		}
	}
}

func overlap(pl geo.Plane, a, b *geo.Region) float64 {
	if a.Bound().MaxLat < b.Bound().MinLat || b.Bound().MaxLat < a.Bound().MinLat ||
		a.Bound().MaxLon < b.Bound().MinLon || b.Bound().MaxLon < a.Bound().MinLon {
		return 0
	}
	in, err := pl.Intersection(a.Polygons(), b.Polygons())
	if err != nil {
		return 0
	}
	return in.Area()
}

// Bound returns the bounding box of every geometry in the agreement.
func Bound(a *truce.Agreement) geo.Rect {
	r := geo.EmptyRect()
	if a.Line != nil {
		r = r.Union(a.Line.Bound())
	}
	for _, p := range a.Parties {
		if p.ControlArea != nil {
			r = r.Union(p.ControlArea.Bound())
		}
	}
	for _, z := range a.Zones {
		switch {
		case z.Area != nil:
			r = r.Union(z.Area.Bound())
		case z.Site != nil:
			r = r.Union(geo.Rect{MinLat: z.Site.Cap.Center.Lat, MinLon: z.Site.Cap.Center.Lon, MaxLat: z.Site.Cap.Center.Lat, MaxLon: z.Site.Cap.Center.Lon}.Expand(z.Site.Cap.Radius))
		}
	}
	for _, s := range a.Sectors {
		if s.Area != nil {
			r = r.Union(s.Area.Bound())
		}
	}
	return r
}

// deriveLine derives the line of contact from the parties' control areas:
// the edges that two parties' areas share, chained in the order of the
// first party's rings. Shared vertices must be identical in both files.
func deriveLine(parties []truce.Party) (*geo.Line, error) {
	var parts [][]geo.Point
	for i, p := range parties {
		for _, q := range parties[i+1:] {
			other := map[[2]geo.Point]bool{}
			for _, poly := range q.ControlArea.Polygons() {
				for _, ring := range poly {
					for k := range ring {
						a, b := ring[k], ring[(k+1)%len(ring)]
						other[[2]geo.Point{a, b}], other[[2]geo.Point{b, a}] = true, true
					}
				}
			}
			for _, poly := range p.ControlArea.Polygons() {
				for _, ring := range poly {
					parts = append(parts, sharedRuns(ring, other)...)
				}
			}
		}
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("no two control areas share a boundary edge (shared vertices must have identical coordinates); give line: explicitly")
	}
	return geo.NewLine(parts)
}

// sharedRuns returns the maximal runs of consecutive ring edges that are in
// shared, as polylines.
func sharedRuns(ring geo.Ring, shared map[[2]geo.Point]bool) [][]geo.Point {
	n := len(ring)
	isShared := func(k int) bool { return shared[[2]geo.Point{ring[k%n], ring[(k+1)%n]}] }
	start := -1
	for k := range n {
		if !isShared(k) {
			start = k + 1
			break
		}
	}
	if start < 0 { // the whole ring is shared: an enclave; keep it as a closed path
		return [][]geo.Point{append(append([]geo.Point{}, ring...), ring[0])}
	}
	var runs [][]geo.Point
	var cur []geo.Point
	for k := start; k < start+n; k++ {
		if isShared(k) {
			if cur == nil {
				cur = []geo.Point{ring[k%n]}
			}
			cur = append(cur, ring[(k+1)%n])
		} else if cur != nil {
			runs = append(runs, cur)
			cur = nil
		}
	}
	if cur != nil {
		runs = append(runs, cur)
	}
	return runs
}
