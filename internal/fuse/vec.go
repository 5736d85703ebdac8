package fuse

import (
	"math"

	"github.com/golang/geo/r3"

	"github.com/truce-dev/truce/internal/geo"
)

// vec is a point of the unit sphere (or a direction) in Earth-centred
// Cartesian coordinates: x towards 0°N 0°E, z towards the North Pole.
type vec = r3.Vector

func unit(p geo.Point) vec { return p.Vector() }

func pointOf(v vec) geo.Point { return geo.PointOf(v) }

// comps returns v's coordinates as an array, for loops over them.
func comps(v vec) [3]float64 { return [3]float64{v.X, v.Y, v.Z} }

// fromComps returns the vector of coordinates a.
func fromComps(a [3]float64) vec { return vec{X: a[0], Y: a[1], Z: a[2]} }

// combine returns a·v + b·w.
func combine(v vec, a float64, w vec, b float64) vec { return v.Mul(a).Add(w.Mul(b)) }

// frame returns the unit vectors pointing north and east at o.
func frame(o vec) (north, east vec) {
	east = vec{X: -o.Y, Y: o.X} // z × o
	if n := east.Norm(); n > 1e-12 {
		east = east.Mul(1 / n)
	} else { // at a pole: any direction will do
		east = vec{Y: 1}
	}
	return o.Cross(east), east
}

// bearingTo returns the initial bearing in degrees [0, 360) from o, whose
// frame is (north, east), to p.
func bearingTo(north, east, p vec) float64 {
	b := math.Atan2(p.Dot(east), p.Dot(north)) * 180 / math.Pi
	if b < 0 {
		b += 360
	}
	return b
}

// along returns the direction at o of the geodesic leaving at bearing
// (degrees).
func along(north, east vec, bearing float64) vec {
	s, c := math.Sincos(bearing * math.Pi / 180)
	return combine(north, c, east, s)
}

// offset returns the point dist radians from o along direction dir (a unit
// vector tangent at o), and the direction of travel there.
func offset(o, dir vec, dist float64) (p, travel vec) {
	s, c := math.Sincos(dist)
	return combine(o, c, dir, s), combine(o, -s, dir, c)
}

// angDiff returns |a-b| in degrees folded into [0, 180].
func angDiff(a, b float64) float64 {
	d := math.Mod(math.Abs(a-b), 360)
	if d > 180 {
		d = 360 - d
	}
	return d
}
