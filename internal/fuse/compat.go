package fuse

import (
	"math"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// precedence orders categories from the most specific to the least: an
// incident takes the first category any member reports.
var precedence = []truce.Category{
	truce.CategoryImpact,
	truce.CategoryOutgoingFire,
	truce.CategoryMuzzleFlash,
	truce.CategoryProjectile,
	truce.CategoryExplosion,
	truce.CategoryBurst,
	truce.CategoryShot,
	truce.CategoryCasualty,
	truce.CategoryDamage,
	truce.CategoryWeaponSighting,
	truce.CategoryMilitaryPresence,
	truce.CategoryAircraft,
	truce.CategoryUAV,
	truce.CategoryVessel,
	truce.CategoryMine,
	truce.CategoryRestriction,
	truce.CategoryIlluminationFlare,
}

// compatiblePairs lists the pairs of different categories that can
// describe one event (the relation is symmetric; a category is always
// compatible with itself).
var compatiblePairs = func() map[[2]truce.Category]bool {
	fire := []truce.Category{truce.CategoryExplosion, truce.CategoryImpact, truce.CategoryOutgoingFire, truce.CategoryProjectile, truce.CategoryMuzzleFlash}
	m := map[[2]truce.Category]bool{}
	pair := func(a, b truce.Category) { m[[2]truce.Category{a, b}], m[[2]truce.Category{b, a}] = true, true }
	for _, a := range fire {
		for _, b := range fire {
			pair(a, b)
		}
		pair(truce.CategoryCasualty, a)
	}
	pair(truce.CategoryBurst, truce.CategoryShot)
	pair(truce.CategoryCasualty, truce.CategoryBurst)
	pair(truce.CategoryCasualty, truce.CategoryShot)
	pair(truce.CategoryWeaponSighting, truce.CategoryMilitaryPresence)
	pair(truce.CategoryDamage, truce.CategoryImpact)
	pair(truce.CategoryDamage, truce.CategoryExplosion)
	return m
}()

// catInfo is what the engine knows of an interned category.
type catInfo struct {
	name  truce.Category
	rank  int  // index in precedence; unknown categories after all known
	orig  bool // outgoing fire or muzzle flash: locates the origin
	state bool // something that stays where it is: Config.StateGate applies
}

// gateOf returns o's time gate, µs: its method's, or for a sighting of
// something that stays put, at least Config.StateGate.
func (e *Engine) gateOf(o *obs) int64 {
	g := e.methods[o.method].gate
	if e.catInfos[o.cat].state {
		g = max(g, e.stateGate)
	}
	return g
}

func (e *Engine) catInfoOf(i uint8) *catInfo {
	for int(i) >= len(e.catInfos) {
		j := len(e.catInfos)
		c := e.cats.vals[j]
		rank := len(precedence)
		for r, p := range precedence {
			if p == c {
				rank = r
			}
		}
		e.catInfos = append(e.catInfos, catInfo{
			name:  c,
			rank:  rank,
			orig:  c == truce.CategoryOutgoingFire || c == truce.CategoryMuzzleFlash,
			state: c == truce.CategoryWeaponSighting || c == truce.CategoryMilitaryPresence,
		})
		// grow the compatibility matrix by one row and column
		for k := range e.catCompat {
			e.catCompat[k] = append(e.catCompat[k], compatiblePairs[[2]truce.Category{e.cats.vals[k], c}])
		}
		row := make([]bool, j+1)
		for k := range row {
			row[k] = k == j || compatiblePairs[[2]truce.Category{c, e.cats.vals[k]}]
		}
		e.catCompat = append(e.catCompat, row)
	}
	return &e.catInfos[i]
}

// compatible reports whether x and y can be reports of one event: times,
// categories, weapon classes and places all agree.
func (e *Engine) compatible(x, y *obs) bool {
	gate := max(e.gateOf(x), e.gateOf(y))
	dt := x.t - y.t
	if dt < 0 {
		dt = -dt
	}
	if dt > x.u+y.u+gate {
		return false
	}
	if x.cat != y.cat && !e.catCompat[x.cat][y.cat] {
		return false
	}
	if x.weapon != 0 && y.weapon != 0 && x.weapon != y.weapon {
		return false
	}
	return e.samePlace(x, y)
}

// samePlace reports whether x and y can be at the same place.
func (e *Engine) samePlace(x, y *obs) bool {
	xo, yo := x.flags&fObserver != 0, y.flags&fObserver != 0
	switch {
	case !xo && !yo:
		lim := spaceK * (x.a + y.a) / geo.EarthRadius
		return float64(x.v.Angle(y.v)) <= lim
	case xo && !yo:
		return e.pointInWedge(y.v, spaceK*y.a, x)
	case !xo && yo:
		return e.pointInWedge(x.v, spaceK*x.a, y)
	}
	return e.wedgesMeet(x, y)
}

// halfAngle returns the half-angle in degrees of an observer report's wedge.
func (e *Engine) halfAngle(w *obs) float64 {
	return min(wedgeSigmas*e.methods[w.method].sigma*180/math.Pi, maxHalfAngle)
}

// pointInWedge reports whether the disc of radius r metres around p meets
// the wedge of observer report w (the annular sector bearing ± half-angle,
// distance band [dmin, dmax]), measured in polar coordinates around the
// observer.
func (e *Engine) pointInWedge(p vec, r float64, w *obs) bool {
	d := float64(w.v.Angle(p)) * geo.EarthRadius
	if d < w.b-r || d > w.c+r {
		return false
	}
	north, east := frame(w.v)
	off := angDiff(bearingTo(north, east, p), w.a) - e.halfAngle(w)
	if off <= 0 || d == 0 {
		return true // within the sector's angles, and the band checked above
	}
	// the nearest point is on the sector's edge ray, between dmin and dmax
	s, c := math.Sincos(off * math.Pi / 180)
	along := min(max(d*c, w.b), w.c)
	return math.Hypot(d*c-along, d*s) <= r
}

// wedgeArc is how many segments approximate the outer arc of a wedge.
const wedgeArc = 4

// wedgeCorners returns the corners of a convex polygon containing the
// wedge of w: the inner chord at dmin and a circumscribed outer arc at dmax.
func (e *Engine) wedgeCorners(w *obs, out []vec) []vec {
	north, east := frame(w.v)
	h := e.halfAngle(w)
	step := 2 * h / wedgeArc
	outer := w.c / math.Cos(step/2*math.Pi/180) / geo.EarthRadius
	inner := w.b / geo.EarthRadius
	p, _ := offset(w.v, along(north, east, w.a-h), inner)
	out = append(out, p)
	for i := range wedgeArc + 1 {
		p, _ := offset(w.v, along(north, east, w.a-h+float64(i)*step), outer)
		out = append(out, p)
	}
	p, _ = offset(w.v, along(north, east, w.a+h), inner)
	return append(out, p)
}

// wedgesMeet reports whether the wedges of two observer reports intersect:
// both are drawn as convex polygons in the gnomonic projection centred
// between the observers (geodesics are straight lines there) and tested
// with the separating axis theorem.
func (e *Engine) wedgesMeet(x, y *obs) bool {
	if float64(x.v.Angle(y.v))*geo.EarthRadius > x.c+y.c+2 {
		return false
	}
	var buf [2 * (wedgeArc + 3)]vec
	cs := e.wedgeCorners(x, buf[:0])
	n := len(cs)
	cs = e.wedgeCorners(y, cs)
	c := x.v.Add(y.v).Normalize()
	north, east := frame(c)
	var xy [2 * (wedgeArc + 3)][2]float64
	for i, p := range cs {
		d := p.Dot(c)
		if d <= 0.1 { // beyond the projection's useful reach: assume they meet
			return true
		}
		xy[i] = [2]float64{p.Dot(east) / d * geo.EarthRadius, p.Dot(north) / d * geo.EarthRadius}
	}
	return !separated(xy[:n], xy[n:len(cs)]) && !separated(xy[n:len(cs)], xy[:n])
}

// separated reports whether an edge of convex polygon a separates it from
// polygon b (with a margin of a metre for rounding).
func separated(a, b [][2]float64) bool {
	// orientation of a
	var area float64
	for i := range a {
		j := (i + 1) % len(a)
		area += a[i][0]*a[j][1] - a[j][0]*a[i][1]
	}
	sign := 1.0
	if area < 0 {
		sign = -1
	}
	for i := range a {
		j := (i + 1) % len(a)
		ex, ey := a[j][0]-a[i][0], a[j][1]-a[i][1]
		l := math.Hypot(ex, ey)
		if l < 1e-6 {
			continue
		}
		// outward normal
		nx, ny := sign*ey/l, -sign*ex/l
		lim := nx*a[i][0] + ny*a[i][1] + 1
		out := true
		for _, q := range b {
			if nx*q[0]+ny*q[1] <= lim {
				out = false
				break
			}
		}
		if out {
			return true
		}
	}
	return false
}
