package truce

import (
	"slices"
	"time"

	"github.com/truce-dev/truce/internal/geo"
)

// Domain is where a coalition force operates.
type Domain string

// Domains.
const (
	DomainLand Domain = "land"
	DomainSea  Domain = "sea"
	DomainAir  Domain = "air"
)

var domains = vocabulary[Domain]{"domain", []Term{
	{string(DomainLand), "on the ground: patrols, convoys, engineers"},
	{string(DomainSea), "at sea: vessels, mine countermeasures"},
	{string(DomainAir), "in the air: aircraft, helicopters, UAVs"},
}}

// Domains lists every domain with its meaning.
func Domains() []Term { return slices.Clone(domains.terms) }

// ParseDomain returns the domain named s.
func ParseDomain(s string) (Domain, error) { return domains.parse(s) }

// Valid reports whether d is a known domain.
func (d Domain) Valid() bool { return domains.valid(d) }

// ActivityKind is what a planned activity is for.
type ActivityKind string

// Activity kinds.
const (
	ActivityFlight   ActivityKind = "flight"
	ActivityPatrol   ActivityKind = "patrol"
	ActivityTransit  ActivityKind = "transit"
	ActivityExercise ActivityKind = "exercise"
	ActivityRepair   ActivityKind = "repair"
)

var activityKinds = vocabulary[ActivityKind]{"activity kind", []Term{
	{string(ActivityFlight), "a flight: surveillance, transport, air policing"},
	{string(ActivityPatrol), "a patrol over an area"},
	{string(ActivityTransit), "a move from one place to another along a corridor"},
	{string(ActivityExercise), "an exercise in a fixed area"},
	{string(ActivityRepair), "repair or engineering work at a site"},
}}

// ActivityKinds lists every activity kind with its meaning.
func ActivityKinds() []Term { return slices.Clone(activityKinds.terms) }

// ParseActivityKind returns the activity kind named s.
func ParseActivityKind(s string) (ActivityKind, error) { return activityKinds.parse(s) }

// Valid reports whether k is a known activity kind.
func (k ActivityKind) Valid() bool { return activityKinds.valid(k) }

// ActivityState is where an activity is in its life.
type ActivityState string

// Activity states. A plan is proposed, then accepted (or rejected, with
// its conflicts); an accepted plan becomes active when the unit starts and
// ended when it is done, or is cancelled before. An active activity whose
// unit strays from its volumes becomes nonconforming until it returns.
const (
	ActivityProposed      ActivityState = "proposed"
	ActivityAccepted      ActivityState = "accepted"
	ActivityRejected      ActivityState = "rejected"
	ActivityActive        ActivityState = "active"
	ActivityNonconforming ActivityState = "nonconforming"
	ActivityEnded         ActivityState = "ended"
	ActivityCancelled     ActivityState = "cancelled"
)

var activityStates = vocabulary[ActivityState]{"activity state", []Term{
	{string(ActivityProposed), "filed and not yet decided"},
	{string(ActivityAccepted), "checked and free of blocking conflicts; reserved"},
	{string(ActivityRejected), "checked and refused for the conflicts it lists; reserves nothing"},
	{string(ActivityActive), "under way, its unit inside its volumes"},
	{string(ActivityNonconforming), "under way, its unit outside its volumes beyond the margin"},
	{string(ActivityEnded), "done; reserves nothing"},
	{string(ActivityCancelled), "withdrawn before or during execution; reserves nothing"},
}}

// ActivityStates lists every activity state with its meaning.
func ActivityStates() []Term { return slices.Clone(activityStates.terms) }

// ParseActivityState returns the activity state named s.
func ParseActivityState(s string) (ActivityState, error) { return activityStates.parse(s) }

// Valid reports whether s is a known activity state.
func (s ActivityState) Valid() bool { return activityStates.valid(s) }

// Reserves reports whether an activity in state s holds its volumes:
// others are checked against it.
func (s ActivityState) Reserves() bool {
	return s == ActivityAccepted || s == ActivityActive || s == ActivityNonconforming
}

// Footprint is the ground shape of a volume, in exactly one form: a
// polygon (one ring, any orientation), a circle, or a corridor (a path and
// the half-width either side of it).
type Footprint struct {
	Polygon   geo.Ring
	Circle    *geo.Cap
	Path      []geo.Point
	HalfWidth float64 // metres, corridors only
}

// Volume is one 4D piece of an activity: a footprint, an altitude band in
// metres above mean sea level, and a time window.
type Volume struct {
	Footprint      Footprint
	MinAlt, MaxAlt float64
	Period         TimeRange // both ends set
}

// NationID names a coalition nation (an organisation of kind nation).
type NationID = OrgID

// Activity is a nation's planned flight, patrol, transit, exercise or
// repair: who, where and when, at what priority, and where it stands.
type Activity struct {
	ID       string
	Nation   NationID
	Unit     string // the unit that carries it out; tracks name it
	Domain   Domain
	Kind     ActivityKind
	Priority int // higher wins
	Volumes  []Volume
	State    ActivityState
	// Version counts the activity's recorded changes; a change must name
	// the version it was made against.
	Version int
	Note    string
	// Conflicts are those found when the plan was last checked.
	Conflicts []Conflict
}

// Period returns the span from the first volume's start to the last
// volume's end.
func (a *Activity) Period() TimeRange {
	var r TimeRange
	for i, v := range a.Volumes {
		if i == 0 || v.Period.From.Before(r.From) {
			r.From = v.Period.From
		}
		if i == 0 || v.Period.Until.After(r.Until) {
			r.Until = v.Period.Until
		}
	}
	return r
}

// ConflictKind says what a plan conflicts with.
type ConflictKind string

// Conflict kinds.
const (
	ConflictActivity ConflictKind = "activity" // another activity's volume
	ConflictZone     ConflictKind = "zone"     // an agreement zone closed to the domain
	ConflictCaveat   ConflictKind = "caveat"   // the nation's own caveats
)

// Conflict is one of a plan's volumes coming too close to something.
type Conflict struct {
	Kind   ConflictKind
	Volume int    // index of the plan's volume
	With   string // activity id, zone id, or the caveat's name
	// WithVolume is the other activity's volume index (activities only).
	WithVolume int
	// Blocking conflicts refuse the plan; the others are reported.
	Blocking bool
	// Rule names the rule that applied, such as "higher_priority".
	Rule string
	// Where is, for an activity, the point of the plan's volume closest
	// to the other (in the overlap when they overlap), and for a zone or
	// caveat a point of the volume's footprint; Distance is the horizontal
	// gap in metres (0 when they overlap).
	Where    geo.Point
	Distance float64
	// When is the overlap in time, widened by the time margin; MinAlt and
	// MaxAlt the overlapping band, widened by the vertical margin.
	When           TimeRange
	MinAlt, MaxAlt float64
}

// Position is one report of where a coalition unit is.
type Position struct {
	Unit   string
	Nation NationID
	Domain Domain
	Time   time.Time
	Point  geo.Point
	Alt    float64 // metres above mean sea level
}

// AlertKind is what a track alert is about.
type AlertKind string

// Track alert kinds.
const (
	AlertNonconforming AlertKind = "nonconforming" // a unit left its activity's volumes
	AlertConforming    AlertKind = "conforming"    // it returned
	AlertKeepOut       AlertKind = "keep_out"      // a unit entered a zone closed to it
	AlertProximity     AlertKind = "proximity"     // aircraft of two nations too close
)

// TrackAlert is something the tracks showed.
type TrackAlert struct {
	Kind     AlertKind
	Unit     string
	Nation   NationID
	Time     time.Time
	Point    geo.Point
	Activity string // the unit's activity, when it has one
	Zone     string // keep_out: the zone
	// Other is the second unit (proximity), and Distance the horizontal
	// gap to the other unit or how far the unit is outside its volumes,
	// in metres.
	Other    string
	Distance float64
}

// Margin is the separation kept between two activities: horizontal and
// vertical distances in metres, and time.
type Margin struct {
	Horizontal, Vertical float64
	Time                 time.Duration
}

// Caveat is what a nation's own rules let its forces do: the domains it
// may operate in (none listed: all), a region it must stay within (nil: no
// such limit) and a region it must keep out of (nil: none).
type Caveat struct {
	Nation  NationID
	Name    string
	Domains []Domain
	Within  *geo.Region
	Outside *geo.Region
}

// Coalition holds the agreement's rules for the coalition's own forces:
// separation margins per domain (two activities of different domains keep
// the larger of each margin), whether equal-priority plans may overlap,
// and each nation's caveats.
type Coalition struct {
	Margins              map[Domain]Margin
	EqualPriorityOverlap bool
	Caveats              []Caveat
}

// Margin returns the separation two activities of domains a and b keep.
func (c *Coalition) Margin(a, b Domain) Margin {
	x, y := c.Margins[a], c.Margins[b]
	return Margin{Horizontal: max(x.Horizontal, y.Horizontal), Vertical: max(x.Vertical, y.Vertical), Time: max(x.Time, y.Time)}
}

func roundPoints(ps []geo.Point) []geo.Point {
	if ps == nil {
		return nil
	}
	out := make([]geo.Point, len(ps))
	for i, p := range ps {
		out[i] = roundPoint(p)
	}
	return out
}

// Canonical returns a rounded to the held precision (see DegreeUnit), as
// the journal holds it.
func (a Activity) Canonical() Activity {
	vs := make([]Volume, len(a.Volumes))
	for i, v := range a.Volumes {
		f := Footprint{Polygon: geo.Ring(roundPoints(v.Footprint.Polygon)), Path: roundPoints(v.Footprint.Path), HalfWidth: Round(v.Footprint.HalfWidth, MetreUnit)}
		if c := v.Footprint.Circle; c != nil {
			f.Circle = &geo.Cap{Center: roundPoint(c.Center), Radius: Round(c.Radius, MetreUnit)}
		}
		vs[i] = Volume{Footprint: f, MinAlt: Round(v.MinAlt, MetreUnit), MaxAlt: Round(v.MaxAlt, MetreUnit),
			Period: TimeRange{From: v.Period.From.UTC().Round(TimeUnit), Until: v.Period.Until.UTC().Round(TimeUnit)}}
	}
	a.Volumes = vs
	cs := make([]Conflict, len(a.Conflicts))
	for i, c := range a.Conflicts {
		c.Where = roundPoint(c.Where)
		c.Distance, c.MinAlt, c.MaxAlt = Round(c.Distance, MetreUnit), Round(c.MinAlt, MetreUnit), Round(c.MaxAlt, MetreUnit)
		c.When = TimeRange{From: c.When.From.UTC().Round(TimeUnit), Until: c.When.Until.UTC().Round(TimeUnit)}
		cs[i] = c
	}
	if len(cs) == 0 {
		cs = nil
	}
	a.Conflicts = cs
	return a
}

// Canonical returns p rounded to the held precision.
func (p Position) Canonical() Position {
	p.Point = roundPoint(p.Point)
	p.Alt = Round(p.Alt, MetreUnit)
	p.Time = p.Time.UTC().Round(TimeUnit)
	return p
}

// Canonical returns a rounded to the held precision.
func (a TrackAlert) Canonical() TrackAlert {
	a.Point = roundPoint(a.Point)
	a.Distance = Round(a.Distance, MetreUnit)
	a.Time = a.Time.UTC().Round(TimeUnit)
	return a
}

// coalitionMarking is the marking of the coalition's own movements.
var coalitionMarking = Marking{TLP: TLPAmber}

// CanSeeForce reports whether p may see the coalition's activities, tracks
// and alerts: the coalition bodies and nations (TLP:AMBER).
func (p Principal) CanSeeForce() bool {
	return p.CanSee(coalitionMarking, "") && (p.Kind == OrgCoalition || p.Kind == OrgNation)
}

// CanPlanFor reports whether p may file and change activities of nation n:
// a coalition body's admin or planner for any nation, a nation's planner
// for its own.
func (p Principal) CanPlanFor(n NationID) bool {
	switch {
	case p.Role != RolePlanner && p.Role != RoleAdmin:
		return false
	case p.Kind == OrgCoalition:
		return true
	case p.Kind == OrgNation:
		return p.Org == n
	}
	return false
}

// CanReportTracks reports whether p may report positions of nation n's
// units: a coalition body's admin, planner, monitor or sensor for any
// nation; a nation's planner, monitor or sensor for its own.
func (p Principal) CanReportTracks(n NationID) bool {
	switch p.Role {
	case RoleAdmin, RolePlanner, RoleMonitor, RoleSensor:
	default:
		return false
	}
	return p.Kind == OrgCoalition || (p.Kind == OrgNation && p.Org == n)
}

// Conflict rules between activities (see Conflict.Rule); zone conflicts
// carry the zone's kind and caveat conflicts the caveat broken.
const (
	RuleHigherPriority       = "higher_priority"
	RuleEqualPriority        = "equal_priority"
	RuleEqualPriorityAllowed = "equal_priority_allowed"
	RuleLowerPriority        = "lower_priority"
)

// RuleBlocks reports whether a conflict under rule refuses the plan: every
// rule does but lower_priority and equal_priority_allowed, which are
// reported only.
func RuleBlocks(rule string) bool {
	return rule != RuleLowerPriority && rule != RuleEqualPriorityAllowed
}
