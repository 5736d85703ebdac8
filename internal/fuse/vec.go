package fuse

import (
	"math"

	"github.com/truce-dev/truce/internal/geo"
)

// vec is a point of the unit sphere (or a direction) in Earth-centred
// Cartesian coordinates: x towards 0°N 0°E, z towards the North Pole.
type vec [3]float64

func unit(p geo.Point) vec {
	φ, λ := p.Lat*math.Pi/180, p.Lon*math.Pi/180
	return vec{math.Cos(φ) * math.Cos(λ), math.Cos(φ) * math.Sin(λ), math.Sin(φ)}
}

func (v vec) point() geo.Point {
	return geo.Point{
		Lat: math.Atan2(v[2], math.Hypot(v[0], v[1])) * 180 / math.Pi,
		Lon: math.Atan2(v[1], v[0]) * 180 / math.Pi,
	}
}

func (v vec) dot(w vec) float64 { return v[0]*w[0] + v[1]*w[1] + v[2]*w[2] }

func (v vec) cross(w vec) vec {
	return vec{v[1]*w[2] - v[2]*w[1], v[2]*w[0] - v[0]*w[2], v[0]*w[1] - v[1]*w[0]}
}

func (v vec) add(w vec) vec                           { return vec{v[0] + w[0], v[1] + w[1], v[2] + w[2]} }
func (v vec) sub(w vec) vec                           { return vec{v[0] - w[0], v[1] - w[1], v[2] - w[2]} }
func (v vec) mul(k float64) vec                       { return vec{v[0] * k, v[1] * k, v[2] * k} }
func (v vec) norm() float64                           { return math.Sqrt(v.dot(v)) }
func (v vec) normalize() vec                          { return v.mul(1 / v.norm()) }
func (v vec) angle(w vec) float64                     { return math.Atan2(v.cross(w).norm(), v.dot(w)) }
func (v vec) combine(a float64, w vec, b float64) vec { return v.mul(a).add(w.mul(b)) }

// frame returns the unit vectors pointing north and east at o.
func frame(o vec) (north, east vec) {
	east = vec{-o[1], o[0], 0} // z × o
	if n := east.norm(); n > 1e-12 {
		east = east.mul(1 / n)
	} else { // at a pole: any direction will do
		east = vec{0, 1, 0}
	}
	return o.cross(east), east
}

// bearingTo returns the initial bearing in degrees [0, 360) from o, whose
// frame is (north, east), to p.
func bearingTo(north, east, p vec) float64 {
	b := math.Atan2(p.dot(east), p.dot(north)) * 180 / math.Pi
	if b < 0 {
		b += 360
	}
	return b
}

// along returns the direction at o of the geodesic leaving at bearing
// (degrees).
func along(north, east vec, bearing float64) vec {
	s, c := math.Sincos(bearing * math.Pi / 180)
	return north.combine(c, east, s)
}

// offset returns the point dist radians from o along direction dir (a unit
// vector tangent at o), and the direction of travel there.
func offset(o, dir vec, dist float64) (p, travel vec) {
	s, c := math.Sincos(dist)
	return o.combine(c, dir, s), o.combine(-s, dir, c)
}

// angDiff returns |a-b| in degrees folded into [0, 180].
func angDiff(a, b float64) float64 {
	d := math.Mod(math.Abs(a-b), 360)
	if d > 180 {
		d = 360 - d
	}
	return d
}
