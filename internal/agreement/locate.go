package agreement

import (
	"slices"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// Location is what the agreement says about one point, with the geometry
// behind it.
type Location struct {
	Point geo.Point
	// Party is the party whose side the point is on, or nil when it is on
	// no party's side (outside every control area).
	Party *truce.Party
	// Line is the closest point of the line of contact, the distance to it
	// and the geometric side of the line.
	Line   geo.Nearest
	Zones  []*truce.Zone
	Sector *truce.Sector
}

// Locate classifies p exactly against every part of the agreement. It
// is the reference the fast Index must agree with; use an Index for volume.
func Locate(a *truce.Agreement, p geo.Point) Location {
	loc := Location{Point: p}
	if a.Line != nil {
		loc.Line = a.Line.Closest(p)
	}
	side := sideAt(a, p, loc.Line.Side)
	if side >= 0 {
		loc.Party = &a.Parties[side]
	}
	for _, zi := range zonesAt(a, p, side, loc.Line.Distance) {
		loc.Zones = append(loc.Zones, &a.Zones[zi])
	}
	for i := range a.Sectors {
		if a.Sectors[i].Area.Contains(p) {
			loc.Sector = &a.Sectors[i]
			break
		}
	}
	return loc
}

// sideAt returns the index of the party whose side p is on, or -1. lineSide
// is p's geometric side of the line, used when parties are given by side.
func sideAt(a *truce.Agreement, p geo.Point, lineSide geo.Side) int {
	for i, party := range a.Parties {
		if party.ControlArea != nil {
			if party.ControlArea.Contains(p) {
				return i
			}
		} else if party.LineSide == lineSide {
			return i
		}
	}
	return -1
}

// inBand reports whether a point at dist metres from the line, on the
// side of party index side, lies in band zone z.
func inBand(a *truce.Agreement, z *truce.Zone, side int, dist float64) bool {
	if side < 0 {
		return false
	}
	t, ok := z.Distance[a.Parties[side].ID]
	return ok && dist <= t
}

// inShape reports whether p lies in an area or site zone.
func inShape(z *truce.Zone, p geo.Point) bool {
	switch {
	case z.Area != nil:
		return z.Area.Contains(p)
	case z.Site != nil:
		return z.Site.Cap.Contains(p)
	}
	return false
}

func zonesAt(a *truce.Agreement, p geo.Point, side int, dist float64) []int {
	var out []int
	for i := range a.Zones {
		z := &a.Zones[i]
		if z.IsBand() && inBand(a, z, side, dist) || !z.IsBand() && inShape(z, p) {
			out = append(out, i)
		}
	}
	return out
}

// ZoneIDs returns the ids of the zones in loc, in agreement order.
func (loc Location) ZoneIDs() []string {
	ids := make([]string, len(loc.Zones))
	for i, z := range loc.Zones {
		ids[i] = z.ID
	}
	return slices.Clip(ids)
}
