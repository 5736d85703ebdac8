package truce

import (
	"math"
	"slices"
	"time"

	"github.com/truce-dev/truce/internal/geo"
)

// Method is how a source came to know what it reports.
type Method string

// Methods of observation.
const (
	MethodHeard       Method = "heard"
	MethodSeen        Method = "seen"
	MethodCamera      Method = "camera"
	MethodUAV         Method = "uav"
	MethodSatellite   Method = "satellite"
	MethodAcoustic    Method = "acoustic"
	MethodRadar       Method = "radar"
	MethodPartyReport Method = "party_report"
	MethodOSINT       Method = "osint"
)

var methods = vocabulary[Method]{"method", []Term{
	{string(MethodHeard), "heard by a monitor on the ground"},
	{string(MethodSeen), "seen by a monitor on the ground"},
	{string(MethodCamera), "recorded by a fixed or mobile camera"},
	{string(MethodUAV), "observed from an unmanned aerial vehicle"},
	{string(MethodSatellite), "observed in satellite imagery"},
	{string(MethodAcoustic), "located by an acoustic sensor or array"},
	{string(MethodRadar), "located by a radar (counter-battery, air surveillance, coastal)"},
	{string(MethodPartyReport), "reported by a party to the ceasefire"},
	{string(MethodOSINT), "found in open sources (media, social networks)"},
}}

// Methods lists every method with its meaning.
func Methods() []Term { return slices.Clone(methods.terms) }

// ParseMethod returns the method named s.
func ParseMethod(s string) (Method, error) { return methods.parse(s) }

// Valid reports whether m is a known method.
func (m Method) Valid() bool { return methods.valid(m) }

// Category is what an observation reports, in the OSCE SMM tradition.
type Category string

// Categories of observation.
const (
	CategoryExplosion         Category = "explosion"
	CategoryImpact            Category = "impact"
	CategoryOutgoingFire      Category = "outgoing_fire"
	CategoryProjectile        Category = "projectile"
	CategoryMuzzleFlash       Category = "muzzle_flash"
	CategoryIlluminationFlare Category = "illumination_flare"
	CategoryBurst             Category = "burst"
	CategoryShot              Category = "shot"
	CategoryWeaponSighting    Category = "weapon_sighting"
	CategoryMilitaryPresence  Category = "military_presence"
	CategoryAircraft          Category = "aircraft"
	CategoryUAV               Category = "uav"
	CategoryVessel            Category = "vessel"
	CategoryDamage            Category = "damage"
	CategoryCasualty          Category = "casualty"
	CategoryMine              Category = "mine"
	CategoryRestriction       Category = "restriction"
)

var categories = vocabulary[Category]{"category", []Term{
	{string(CategoryExplosion), "an explosion of undetermined origin"},
	{string(CategoryImpact), "an incoming round landing (impact)"},
	{string(CategoryOutgoingFire), "a round fired from a weapon (outgoing fire)"},
	{string(CategoryProjectile), "a projectile in flight"},
	{string(CategoryMuzzleFlash), "a muzzle flash"},
	{string(CategoryIlluminationFlare), "an illumination flare"},
	{string(CategoryBurst), "a burst of automatic fire"},
	{string(CategoryShot), "a single shot"},
	{string(CategoryWeaponSighting), "a weapon seen in place (for withdrawal zones)"},
	{string(CategoryMilitaryPresence), "military personnel or positions seen"},
	{string(CategoryAircraft), "a manned military aircraft"},
	{string(CategoryUAV), "an unmanned aerial vehicle"},
	{string(CategoryVessel), "a military vessel"},
	{string(CategoryDamage), "damage to property or infrastructure"},
	{string(CategoryCasualty), "a civilian or military casualty"},
	{string(CategoryMine), "a mine, unexploded ordnance or mine-laying"},
	{string(CategoryRestriction), "a restriction of the monitors' freedom of movement"},
}}

// Categories lists every category with its meaning.
func Categories() []Term { return slices.Clone(categories.terms) }

// ParseCategory returns the category named s.
func ParseCategory(s string) (Category, error) { return categories.parse(s) }

// Valid reports whether c is a known category.
func (c Category) Valid() bool { return categories.valid(c) }

// Reliability is the Admiralty grade of a source, from A (completely
// reliable) to F (reliability cannot be judged).
type Reliability byte

// Valid reports whether r is one of A to F.
func (r Reliability) Valid() bool { return r >= 'A' && r <= 'F' }

func (r Reliability) String() string { return string(rune(r)) }

// Credibility is the Admiralty grade of a piece of information, from 1
// (confirmed by other sources) to 6 (truth cannot be judged).
type Credibility int8

// Valid reports whether c is one of 1 to 6.
func (c Credibility) Valid() bool { return c >= 1 && c <= 6 }

// Held precision. Observations are held to these resolutions, so that their
// canonical journal encoding (integers in these units) is exact: Canonical
// rounds an observation to them.
const (
	DegreeUnit  = 1e-7 // latitudes, longitudes: about 1.1 cm
	BearingUnit = 1e-3 // bearings, degrees
	MetreUnit   = 1e-3 // distances and CEP, metres (millimetres)
	TimeUnit    = time.Microsecond
)

// Location is a reported position with its circular error probable: the
// radius in metres within which the true position lies with probability
// one half.
type Location struct {
	Point geo.Point
	CEP   float64
}

// Observer is a position from which something was heard or seen, the
// bearing (degrees clockwise from true north) towards it and the band of
// distances (metres) at which it lies.
type Observer struct {
	Point                    geo.Point
	Bearing                  float64
	DistanceMin, DistanceMax float64
}

// Observation is one report from one source. Source and SourceID together
// identify it: reporting it again changes nothing. Exactly one of Location
// and Observer is set.
type Observation struct {
	Source   string
	SourceID string
	Method   Method
	Category Category
	Weapon   WeaponClass // "" when unknown
	Count    int

	Time            time.Time     // UTC, microseconds
	TimeUncertainty time.Duration // ± around Time

	Location *Location
	Observer *Observer

	// FireBearing is the direction the fire came from (degrees clockwise
	// from true north), when HasFireBearing.
	FireBearing    float64
	HasFireBearing bool

	Reliability Reliability
	Credibility Credibility
	Party       PartyID // the party whose claim this is, if a party report
	Text        string
	Marking     Marking
}

// Canonical returns o rounded to the held precision (see DegreeUnit), with
// times in UTC. Values that went through the journal are canonical already.
func (o Observation) Canonical() Observation {
	o.Time = o.Time.UTC().Round(TimeUnit)
	o.TimeUncertainty = o.TimeUncertainty.Round(TimeUnit)
	if o.Location != nil {
		l := *o.Location
		l.Point = roundPoint(l.Point)
		l.CEP = Round(l.CEP, MetreUnit)
		o.Location = &l
	}
	if o.Observer != nil {
		v := *o.Observer
		v.Point = roundPoint(v.Point)
		v.Bearing = Round(v.Bearing, BearingUnit)
		v.DistanceMin = Round(v.DistanceMin, MetreUnit)
		v.DistanceMax = Round(v.DistanceMax, MetreUnit)
		o.Observer = &v
	}
	if o.HasFireBearing {
		o.FireBearing = Round(o.FireBearing, BearingUnit)
	}
	o.Marking.RelTo = slices.Clone(o.Marking.RelTo)
	slices.Sort(o.Marking.RelTo)
	o.Marking.RelTo = slices.Compact(o.Marking.RelTo)
	if len(o.Marking.RelTo) == 0 {
		o.Marking.RelTo = nil
	}
	return o
}

// Position is the best single point for o: its location, or for an observer
// report the point at the middle of the distance band along the bearing.
func (o *Observation) Position() geo.Point {
	if o.Location != nil {
		return o.Location.Point
	}
	v := o.Observer
	return geo.Destination(v.Point, v.Bearing, (v.DistanceMin+v.DistanceMax)/2)
}

func roundPoint(p geo.Point) geo.Point {
	return geo.Point{Lat: Round(p.Lat, DegreeUnit), Lon: Round(p.Lon, DegreeUnit)}
}

// Round rounds x to a whole number of units (half away from zero), the
// way the journal stores it: Round(Round(x, u), u) == Round(x, u), and
// the result is the float64 nearest to the decimal value (48.1, not
// 48.099999999999994).
func Round(x, unit float64) float64 { return FromUnits(Units(x, unit), unit) }

// Units returns x as a whole number of units, rounded half away from zero.
func Units(x, unit float64) int64 { return int64(math.Round(x * perUnit(unit))) }

// FromUnits returns n units as a float64: the one nearest to n × unit.
func FromUnits(n int64, unit float64) float64 { return float64(n) / perUnit(unit) }

// perUnit returns how many units make one: an exact integer for the
// decimal units used here, whose reciprocals are not exact in binary.
func perUnit(unit float64) float64 { return math.Round(1 / unit) }
