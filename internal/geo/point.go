package geo

import (
	"fmt"
	"math"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// EarthRadius is the IUGG mean radius R1 of the Earth in metres.
const EarthRadius = 6371008.8

// Point is a position in WGS84 decimal degrees.
type Point struct {
	Lat, Lon float64
}

// Pt is shorthand for Point{lat, lon}.
func Pt(lat, lon float64) Point { return Point{Lat: lat, Lon: lon} }

func (p Point) String() string { return fmt.Sprintf("%.5f, %.5f", p.Lat, p.Lon) }

// Validate reports why p is not a usable position, or nil.
func (p Point) Validate() error {
	switch {
	case math.IsNaN(p.Lat) || math.IsNaN(p.Lon) || math.IsInf(p.Lat, 0) || math.IsInf(p.Lon, 0):
		return fmt.Errorf("coordinate is not a finite number")
	case p.Lat < -90 || p.Lat > 90:
		return fmt.Errorf("latitude %g is outside [-90, 90]", p.Lat)
	case p.Lon < -180 || p.Lon > 180:
		return fmt.Errorf("longitude %g is outside [-180, 180]", p.Lon)
	}
	return nil
}

func (p Point) s2() s2.Point { return s2.PointFromLatLng(s2.LatLngFromDegrees(p.Lat, p.Lon)) }

func fromS2(v s2.Point) Point {
	ll := s2.LatLngFromPoint(v)
	return Point{Lat: ll.Lat.Degrees(), Lon: ll.Lng.Degrees()}
}

// Distance returns the great-circle distance between a and b in metres.
func Distance(a, b Point) float64 { return metres(a.s2().Distance(b.s2())) }

// Destination returns the point reached from p by travelling dist metres
// along the geodesic that starts at the given bearing (degrees clockwise
// from true north).
func Destination(p Point, bearing, dist float64) Point {
	o := p.s2()
	north := s2.Point{Vector: s2.PointFromCoords(0, 0, 1).Sub(o.Mul(o.Z)).Normalize()}
	if north.Norm2() == 0 || math.IsNaN(north.X) { // at a pole every direction is south
		north = s2.Ortho(o)
	}
	east := s2.Point{Vector: north.Cross(o.Vector).Normalize()}
	b := bearing * math.Pi / 180
	dir := s2.Point{Vector: north.Mul(math.Cos(b)).Add(east.Mul(math.Sin(b))).Normalize()}
	return fromS2(s2.PointOnRay(o, dir, angle(dist)))
}

// Bearing returns the initial bearing of the geodesic from a to b, in degrees
// clockwise from true north in [0, 360).
func Bearing(a, b Point) float64 {
	φ1, φ2 := a.Lat*math.Pi/180, b.Lat*math.Pi/180
	Δλ := (b.Lon - a.Lon) * math.Pi / 180
	y := math.Sin(Δλ) * math.Cos(φ2)
	x := math.Cos(φ1)*math.Sin(φ2) - math.Sin(φ1)*math.Cos(φ2)*math.Cos(Δλ)
	deg := math.Atan2(y, x) * 180 / math.Pi
	return math.Mod(deg+360, 360)
}

func metres(a s1.Angle) float64 { return float64(a) * EarthRadius }

func angle(m float64) s1.Angle { return s1.Angle(m / EarthRadius) }

func chord(m float64) s1.ChordAngle { return s1.ChordAngleFromAngle(angle(m)) }

// Rect is a latitude/longitude bounding box in degrees.
type Rect struct {
	MinLat, MinLon, MaxLat, MaxLon float64
}

// Empty reports whether r contains no point.
func (r Rect) Empty() bool { return r.MinLat > r.MaxLat || r.MinLon > r.MaxLon }

// EmptyRect returns a Rect that Extend grows from nothing.
func EmptyRect() Rect {
	return Rect{MinLat: math.Inf(1), MinLon: math.Inf(1), MaxLat: math.Inf(-1), MaxLon: math.Inf(-1)}
}

// Extend returns r grown to contain p.
func (r Rect) Extend(p Point) Rect {
	return Rect{min(r.MinLat, p.Lat), min(r.MinLon, p.Lon), max(r.MaxLat, p.Lat), max(r.MaxLon, p.Lon)}
}

// Union returns the smallest Rect containing r and o.
func (r Rect) Union(o Rect) Rect {
	return Rect{min(r.MinLat, o.MinLat), min(r.MinLon, o.MinLon), max(r.MaxLat, o.MaxLat), max(r.MaxLon, o.MaxLon)}
}

// Contains reports whether p lies inside r or on its edge.
func (r Rect) Contains(p Point) bool {
	return p.Lat >= r.MinLat && p.Lat <= r.MaxLat && p.Lon >= r.MinLon && p.Lon <= r.MaxLon
}

// Expand returns r grown by at least m metres on every side.
func (r Rect) Expand(m float64) Rect {
	dLat := m / EarthRadius * 180 / math.Pi
	c := math.Cos(math.Min(math.Max(math.Abs(r.MinLat), math.Abs(r.MaxLat))+dLat, 89.9) * math.Pi / 180)
	dLon := dLat / c
	return Rect{
		MinLat: max(r.MinLat-dLat, -90), MaxLat: min(r.MaxLat+dLat, 90),
		MinLon: max(r.MinLon-dLon, -180), MaxLon: min(r.MaxLon+dLon, 180),
	}
}

// Vector returns p as a unit vector in Earth-centred coordinates: x
// towards 0°N 0°E, z towards the North Pole.
func (p Point) Vector() r3.Vector { return p.s2().Vector }

// PointOf returns the point in the direction of v (any length but zero).
func PointOf(v r3.Vector) Point { return fromS2(s2.Point{Vector: v}) }
