package assess

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// An Assessor judges incidents against one agreement. It is safe for
// concurrent use.
type Assessor struct {
	a     *truce.Agreement
	index *agreement.Index
	cross *crossings
}

// beyond is how far past the line, in metres, a direction of fire is
// followed to see whose ground it came from.
const beyond = 200

// New returns an Assessor for a, building its point index once.
func New(a *truce.Agreement) (*Assessor, error) {
	if a == nil {
		return nil, errors.New("assess: no agreement")
	}
	if len(a.Parties) == 0 {
		return nil, errors.New("assess: agreement " + a.ID + " has no parties")
	}
	return &Assessor{a: a, index: agreement.NewIndex(a, agreement.IndexOptions{}), cross: newCrossings(a.Line)}, nil
}

// attribution is who an incident is attributed to and why, in words.
type attribution struct {
	party int // index into Agreement.Parties, or -1
	why   string
}

// judge holds what Assess has learnt about one incident while it judges it.
type judge struct {
	as    *Assessor
	inc   *truce.Incident
	place *agreement.Place

	// where describes the location (distance to the line, side, sector);
	// it costs a distance query and is made only for a violation.
	where string
	att   *attribution
	out   []truce.Violation
}

// Assess judges inc against every rule, with the windows of silence in
// force, sets inc.Party to the party the incident is attributed to (""
// when undetermined) and returns its violations sorted by ID. A dismissed
// incident breaks no rule and is attributed to no one.
//
// The party is found by the incident's category (see the package
// documentation), whether or not a rule is broken; every violation holds
// that party responsible.
func (as *Assessor) Assess(inc *truce.Incident, windows []truce.SilenceWindow) []truce.Violation {
	inc.Party = ""
	if inc.Status == truce.StatusDismissed {
		return nil
	}
	j := &judge{as: as, inc: inc, place: as.index.Classify(inc.Location)}
	att := j.attribute()
	if att.party >= 0 {
		inc.Party = as.a.Parties[att.party].ID
	}
	c := inc.Category
	switch {
	case isFire(c):
		j.add(truce.RuleCeasefire, "", "Ceasefire: "+j.what()+" "+j.whereText()+".")
	case c == truce.CategoryWeaponSighting || c == truce.CategoryMilitaryPresence:
		j.presence()
	case c == truce.CategoryAircraft || c == truce.CategoryUAV:
		j.airspace()
	case c == truce.CategoryVessel:
		j.zones(truce.ZoneMaritime, truce.RuleMaritime, "Maritime zone", "inside the closed maritime zone")
	case c == truce.CategoryRestriction:
		j.add(truce.RuleFreedomOfMovement, "", "Freedom of movement: the monitors' movement was restricted "+j.whereText()+".")
	}
	if isFire(c) || c == truce.CategoryDamage {
		j.protectedSites()
	}
	if isFire(c) {
		j.silence(windows)
	}
	slices.SortFunc(j.out, func(x, y truce.Violation) int { return strings.Compare(x.ID, y.ID) })
	return j.out
}

// add records a violation of rule in zone (or none), with text saying what
// happened; the attribution and the incident's standing are appended.
func (j *judge) add(rule truce.Rule, zone, text string) {
	inc := j.inc
	var b strings.Builder
	b.WriteString(text)
	b.WriteString(" ")
	b.WriteString(j.att.why)
	if inc.Status == truce.StatusUnverified {
		b.WriteString(" Unverified: ")
		if len(inc.Claimants) > 0 {
			b.WriteString("claimed by ")
			for i, p := range inc.Claimants {
				if i > 0 {
					b.WriteString(" and ")
				}
				b.WriteString(string(p))
			}
			b.WriteString(", not confirmed by the monitors.")
		} else {
			b.WriteString("the incident could not be verified.")
		}
	}
	j.out = append(j.out, truce.Violation{
		ID:          inc.ID + "/" + string(rule) + "/" + zone,
		Incident:    inc.ID,
		Rule:        rule,
		Zone:        zone,
		Sector:      j.sectorID(),
		Party:       inc.Party,
		Severity:    severityOf(rule, inc.Weapon),
		Time:        inc.Start,
		Location:    inc.Location,
		Explanation: b.String(),
	})
}

func (j *judge) sectorID() string {
	if j.place.Sector < 0 {
		return ""
	}
	return j.as.a.Sectors[j.place.Sector].ID
}

func (j *judge) partyName(i int) string {
	if i < 0 {
		return "no party"
	}
	return string(j.as.a.Parties[i].ID)
}

// what names the incident: its category in words and its weapon class.
func (j *judge) what() string {
	s := strings.ReplaceAll(string(j.inc.Category), "_", " ")
	if j.inc.Weapon != "" {
		s += " (weapon class " + string(j.inc.Weapon) + ")"
	}
	return s
}

// whereText says where the incident is: its position, distance to the
// line, side and sector.
func (j *judge) whereText() string {
	if j.where != "" {
		return j.where
	}
	inc := j.inc
	s := "at " + inc.Location.String()
	if j.as.a.Line != nil {
		s += ", " + km(j.as.lineDistance(inc.Location)) + " from the line"
	}
	if j.place.Side >= 0 {
		s += " on " + j.partyName(j.place.Side) + "'s side"
	} else {
		s += " on no party's side"
	}
	if j.place.Sector >= 0 {
		s += ", sector " + j.as.a.Sectors[j.place.Sector].ID
	}
	j.where = s
	return s
}

// lineDistance returns the distance from p to the line in metres.
func (as *Assessor) lineDistance(p geo.Point) float64 {
	if d, ok := as.cross.distance(p); ok {
		return d
	}
	return as.a.Line.Distance(p)
}

// km formats metres as kilometres to one decimal.
func km(m float64) string { return strconv.FormatFloat(m/1000, 'f', 1, 64) + " km" }

// attribute finds the party the incident is attributed to, by its category.
func (j *judge) attribute() *attribution {
	inc := j.inc
	var at attribution
	switch c := inc.Category; {
	case isFire(c) || c == truce.CategoryDamage:
		at = j.fireOrigin()
	case c == truce.CategoryWeaponSighting || c == truce.CategoryMilitaryPresence || c == truce.CategoryRestriction:
		at.party = j.place.Side
		if at.party >= 0 {
			at.why = "Attributed to " + j.partyName(at.party) + ", the side it stands on."
			if c == truce.CategoryRestriction {
				at.why = "Attributed to " + j.partyName(at.party) + ", on whose side it happened."
			}
		} else {
			at.why = "Undetermined: it is on no party's side."
		}
	case (c == truce.CategoryAircraft || c == truce.CategoryUAV) && inc.Origin != nil:
		at.party = j.as.index.Classify(*inc.Origin).Side
		if at.party >= 0 {
			at.why = "Attributed to " + j.partyName(at.party) + ": it came from " + inc.Origin.String() + ", on " + j.partyName(at.party) + "'s side."
		} else {
			at.why = "Undetermined: it came from " + inc.Origin.String() + ", on no party's side."
		}
	default:
		at.party = -1
		at.why = "Undetermined: its position does not say whose it is."
	}
	j.att = &at
	return &at
}

// fireOrigin attributes fire: to the side of its origin when that is known
// (or when the incident is the firing itself), else to the party beyond the
// line when the direction of fire crosses it within the weapon's range,
// else to no one.
func (j *judge) fireOrigin() attribution {
	inc := j.inc
	switch {
	case inc.Origin != nil:
		s := j.as.index.Classify(*inc.Origin).Side
		if s < 0 {
			return attribution{-1, "Undetermined: the fire came from " + inc.Origin.String() + ", on no party's side."}
		}
		return attribution{s, "Attributed to " + j.partyName(s) + ": the fire came from " + inc.Origin.String() + ", on " + j.partyName(s) + "'s side."}
	case firedFromHere(inc.Category):
		s := j.place.Side
		if s < 0 {
			return attribution{-1, "Undetermined: the fire left a point on no party's side."}
		}
		return attribution{s, "Attributed to " + j.partyName(s) + ": the fire left this point, on " + j.partyName(s) + "'s side."}
	case inc.HasFireBearing:
		reach := rangeOf(inc.Weapon)
		reachText := km(reach)
		if inc.Weapon != "" {
			if _, ok := weaponRange[inc.Weapon]; ok {
				reachText += ", the range of " + string(inc.Weapon)
			}
		}
		dir := "the direction of fire (from bearing " + strconv.FormatFloat(inc.FireBearing, 'f', 0, 64) + "°)"
		t, ok := j.as.cross.first(inc.Location, inc.FireBearing, reach)
		if !ok {
			return attribution{-1, "Undetermined: " + dir + " does not cross the line within " + reachText + ", so it may have come from either side."}
		}
		far := j.as.index.Classify(geo.Destination(inc.Location, inc.FireBearing, t+beyond)).Side
		if far < 0 || far == j.place.Side {
			return attribution{-1, "Undetermined: " + dir + " crosses the line " + km(t) + " away, but the ground beyond is held by no other party."}
		}
		return attribution{far, "Attributed to " + j.partyName(far) + ": " + dir + " crosses the line " + km(t) + " away, within " + reachText + ", into ground held by " + j.partyName(far) + "."}
	}
	return attribution{-1, "Undetermined: neither where the fire came from nor its direction is known."}
}

// presence judges a weapon sighting or military presence against the
// withdrawal, buffer and disengagement zones that hold it.
func (j *judge) presence() {
	a, inc := j.as.a, j.inc
	for _, zi := range j.place.Zones {
		z := &a.Zones[zi]
		switch z.Kind {
		case truce.ZoneWithdrawal:
			if inc.Weapon == "" || !slices.Contains(z.Weapons, inc.Weapon) {
				continue
			}
			text := "Withdrawal zone " + zoneName(z) + ": " + j.what() + " seen " + j.whereText()
			if j.place.Side >= 0 {
				if d, ok := z.Distance[a.Parties[j.place.Side].ID]; ok {
					text += "; the agreement keeps " + string(inc.Weapon) + " at least " + km(d) + " from the line on " + j.partyName(j.place.Side) + "'s side"
				}
			}
			j.add(truce.RuleWithdrawal, z.ID, text+".")
		case truce.ZoneBuffer:
			text := "Buffer zone " + zoneName(z) + ": " + j.what() + " seen " + j.whereText()
			if j.place.Side >= 0 {
				if d, ok := z.Distance[a.Parties[j.place.Side].ID]; ok {
					text += ", inside the " + km(d) + " band where no military presence is allowed"
				}
			}
			j.add(truce.RuleBuffer, z.ID, text+".")
		case truce.ZoneDisengagement:
			j.add(truce.RuleDisengagement, z.ID, "Disengagement area "+zoneName(z)+": "+j.what()+" seen inside it, "+j.whereText()+".")
		}
	}
}

// airspace judges an aircraft or UAV: inside a no-fly zone, or across the
// line from a known origin.
func (j *judge) airspace() {
	j.zones(truce.ZoneNoFly, truce.RuleAirspace, "No-fly zone", "inside the no-fly zone")
	inc := j.inc
	if inc.Origin == nil || j.att.party < 0 || j.place.Side < 0 || j.place.Side == j.att.party {
		return
	}
	j.add(truce.RuleAirspace, "", "Airspace: "+j.what()+" over "+j.partyName(j.place.Side)+"'s side of the line, "+j.whereText()+".")
}

// zones records a violation of rule for every zone of kind that holds the
// incident.
func (j *judge) zones(kind truce.ZoneKind, rule truce.Rule, title, inside string) {
	a := j.as.a
	for _, zi := range j.place.Zones {
		z := &a.Zones[zi]
		if z.Kind != kind {
			continue
		}
		j.add(rule, z.ID, title+" "+zoneName(z)+": "+j.what()+" "+inside+", "+j.whereText()+".")
	}
}

// protectedSites judges an impact, explosion or damage against the
// protected sites whose radius holds it.
func (j *judge) protectedSites() {
	c := j.inc.Category
	if c != truce.CategoryImpact && c != truce.CategoryExplosion && c != truce.CategoryDamage {
		return
	}
	a := j.as.a
	for _, zi := range j.place.Zones {
		z := &a.Zones[zi]
		if z.Kind != truce.ZoneProtectedSite || z.Site == nil {
			continue
		}
		d := geo.Distance(z.Site.Cap.Center, j.inc.Location)
		j.add(truce.RuleProtectedSite, z.ID, "Protected site "+zoneName(z)+", a "+strings.ReplaceAll(string(z.Site.Category), "_", " ")+": "+
			j.what()+" "+km(d)+" from the site, within its "+km(z.Site.Cap.Radius)+" radius, "+j.whereText()+".")
	}
}

// silence judges fire against the acknowledged windows of silence whose
// place and period hold it: its estimated location within the radius, and
// its time span [Start, End] meeting the period.
func (j *judge) silence(windows []truce.SilenceWindow) {
	inc := j.inc
	end := inc.End
	if end.Before(inc.Start) {
		end = inc.Start
	}
	for i := range windows {
		w := &windows[i]
		if !w.Acknowledged || !overlaps(inc.Start, end, w.Period) {
			continue
		}
		d := geo.Distance(w.Center, inc.Location)
		if d > w.Radius {
			continue
		}
		name := w.ID
		if w.Name != "" {
			name += " (" + w.Name + ")"
		}
		until := "open-ended"
		if !w.Period.Until.IsZero() {
			until = w.Period.Until.UTC().Format(time.RFC3339)
		}
		text := "Window of silence " + name + ", acknowledged by both parties for " + w.Period.From.UTC().Format(time.RFC3339) + " to " + until +
			": " + j.what() + " " + km(d) + " from its centre, within its " + km(w.Radius) + " radius"
		if inc.Uncertainty > 0 {
			text += " (location uncertain by " + km(inc.Uncertainty) + ")"
		}
		j.add(truce.RuleSilence, w.ID, text+", "+j.whereText()+".")
	}
}

// overlaps reports whether [start, end] meets the half-open period.
func overlaps(start, end time.Time, p truce.TimeRange) bool {
	return !end.Before(p.From) && (p.Until.IsZero() || start.Before(p.Until))
}

func zoneName(z *truce.Zone) string {
	if z.Name != "" && z.Name != z.ID {
		return z.ID + " (" + z.Name + ")"
	}
	return z.ID
}
