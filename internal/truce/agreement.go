package truce

import (
	"time"

	"github.com/truce-dev/truce/internal/geo"
)

// PartyID names a party to the ceasefire, such as "UA" or "RU".
type PartyID string

// Party is one side of the ceasefire and the ground it holds: either a
// control area, or a side of the line of contact (exactly one is set).
type Party struct {
	ID          PartyID
	Name        string
	ControlArea *geo.Region // nil when the party's side is given as LineSide
	LineSide    geo.Side    // geo.On when the party has a ControlArea
}

// Site is a protected facility: a point and the radius around it.
type Site struct {
	Category SiteCategory
	Cap      geo.Cap
}

// Zone is an area where the agreement restricts something. Its extent is
// given in exactly one form:
//   - a band along the line (Distance set): every point on the listed
//     parties' sides within that many metres of the line;
//   - polygons (Area set);
//   - a protected site (Site set).
type Zone struct {
	ID      string
	Name    string
	Kind    ZoneKind
	Weapons []WeaponClass // withdrawal zones only
	// Distance maps each party whose side the band covers to the band's
	// width in metres on that side.
	Distance map[PartyID]float64
	Area     *geo.Region
	Site     *Site
}

// IsBand reports whether the zone is a band along the line.
func (z *Zone) IsBand() bool { return z.Distance != nil }

// Sector is a named stretch of the line for reporting and escalation.
type Sector struct {
	ID   string
	Name string
	Area *geo.Region
}

// Severity grades how grave a violation is; the agreement weighs each grade.
type Severity string

// Severities, from least to most grave.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Severities lists the grades from least to most grave.
func Severities() []Severity {
	return []Severity{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}
}

// EscalationWindow is one sliding window over which a sector's
// severity-weighted violations are summed, with the score at which each
// alert level begins.
type EscalationWindow struct {
	Duration                 time.Duration
	Tense, Serious, Critical float64
}

// Escalation holds the agreement's thresholds for sector alert levels.
type Escalation struct {
	Windows []EscalationWindow
	// Hysteresis is the fraction of a level's threshold below which the
	// score must fall before the level drops, so levels do not flap.
	Hysteresis      float64
	SeverityWeights map[Severity]float64
	// RenewedAggressionSectors is how many sectors at CRITICAL fire the
	// renewed-aggression trigger.
	RenewedAggressionSectors int
}

// TimeRange is a half-open interval [From, Until); a zero Until is open-ended.
type TimeRange struct {
	From, Until time.Time
}

// Contains reports whether t falls inside r.
func (r TimeRange) Contains(t time.Time) bool {
	return !t.Before(r.From) && (r.Until.IsZero() || t.Before(r.Until))
}

// Agreement is a ceasefire's terms: its parties, line, zones, sectors and
// escalation thresholds.
type Agreement struct {
	ID        string
	Title     string
	Version   int
	Notice    string
	Effective TimeRange
	Parties   []Party
	// Line is the line of contact. LineDerived is true when it was derived
	// from the parties' control areas rather than given.
	Line        *geo.Line
	LineDerived bool
	Zones       []Zone
	Sectors     []Sector
	Escalation  Escalation
	// Coalition holds the rules the coalition's own forces keep.
	Coalition Coalition
}

// Polygons returns an area or site zone's extent as polygons; circles are
// drawn within tol metres. Band zones have no fixed polygons (see
// agreement.ZoneShapes) and return nil.
func (z *Zone) Polygons(tol float64) geo.MultiPolygon {
	switch {
	case z.Area != nil:
		return z.Area.Polygons()
	case z.Site != nil:
		return geo.MultiPolygon{z.Site.Cap.Polygon(tol)}
	}
	return nil
}
