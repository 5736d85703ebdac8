package deconflict

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// Monitor watches coalition units' positions: a unit whose activity is
// under way must stay within its volumes (within the margins); no unit may
// enter a zone closed to its domain; aircraft of different nations must
// keep the air separation. It reports changes (a unit leaving or
// re-entering its volumes, entering a zone, two aircraft coming too
// close), not every position. A position of a unit older than the newest
// seen for it is passed over. Safe for concurrent use; batches are
// judged one at a time, in the order given.
type Monitor struct {
	p     *Planner
	place *agreement.Index
	agr   *truce.Agreement

	mu      sync.Mutex
	units   map[string]*unitState
	air     map[uint64][]*unitState // air units by proximity cell
	airCell float64                 // degrees
	// zoned bounds every zone: outside it a point is in none, and the
	// place index (exact, and slower, outside its own bound) is not asked.
	zoned geo.Rect
	// StaleAfter is how old another aircraft's last position may be and
	// still count for proximity (default 2 minutes).
	StaleAfter time.Duration
}

type unitState struct {
	unit     string
	pos      truce.Position
	zones    []int // closed zones the unit is inside
	nonconf  bool
	activity string
	cell     uint64
	inAir    bool
	partners []*unitState // aircraft currently too close
}

// NewMonitor returns a Monitor over planner p's activities, classifying
// points with place (an index of p's agreement).
func NewMonitor(p *Planner, place *agreement.Index) *Monitor {
	sep := p.agr.Coalition.Margins[truce.DomainAir].Horizontal
	reach := 0.0
	for _, z := range p.agr.Zones {
		for _, d := range z.Distance {
			reach = max(reach, d)
		}
	}
	return &Monitor{p: p, place: place, agr: p.agr, units: map[string]*unitState{}, air: map[uint64][]*unitState{},
		airCell: max(0.01, sep/metresPerDegree), StaleAfter: 2 * time.Minute, zoned: agreement.Bound(p.agr).Expand(reach + 1e3)}
}

// ValidatePositions checks a batch of positions; problems name the
// position by index and the field.
func ValidatePositions(batch []truce.Position) error {
	var probs truce.Problems
	for i, p := range batch {
		rec := fmt.Sprintf("positions[%d]", i)
		if p.Unit != "" {
			rec = fmt.Sprintf("positions[%d] (%s)", i, p.Unit)
		}
		bad := func(field, format string, args ...any) {
			probs = append(probs, &truce.ValidationError{Record: rec, Field: field, Reason: fmt.Sprintf(format, args...)})
		}
		if p.Unit == "" || len(p.Unit) > maxTextLen || strings.TrimSpace(p.Unit) != p.Unit {
			bad("unit", "must be 1 to %d characters without surrounding spaces", maxTextLen)
		}
		if !truce.ValidOrgID(string(p.Nation)) {
			bad("nation", "%q is not a nation id", p.Nation)
		}
		if !p.Domain.Valid() {
			_, err := truce.ParseDomain(string(p.Domain))
			bad("domain", "%v", err)
		}
		if p.Time.IsZero() {
			bad("time", "is required")
		}
		if err := p.Point.Validate(); err != nil {
			bad("position", "%v", err)
		}
		if !(p.Alt >= MinAltitude && p.Alt <= MaxAltitude) {
			bad("alt_m", "%g m is outside %g..%g m", p.Alt, MinAltitude, MaxAltitude)
		}
	}
	return probs.Err()
}

// Observe judges a batch of valid positions and returns the alerts it
// raises, in order.
func (m *Monitor) Observe(batch []truce.Position) []truce.TrackAlert {
	m.mu.Lock()
	defer m.mu.Unlock()
	var alerts []truce.TrackAlert
	for i := range batch {
		alerts = m.observe(&batch[i], alerts)
	}
	return alerts
}

func (m *Monitor) observe(p *truce.Position, alerts []truce.TrackAlert) []truce.TrackAlert {
	u := m.units[p.Unit]
	if u == nil {
		u = &unitState{unit: p.Unit}
		m.units[p.Unit] = u
	} else if p.Time.Before(u.pos.Time) {
		return alerts
	}
	u.pos = *p
	alert := func(k truce.AlertKind) truce.TrackAlert {
		return truce.TrackAlert{Kind: k, Unit: p.Unit, Nation: p.Nation, Time: p.Time, Point: p.Point}
	}
	// Zones closed to the unit's domain (none outside m.zoned).
	var inside []int
	if place := m.classify(p.Point); place != nil {
		for _, zi := range place.Zones {
			doms, closed := ClosedTo(m.agr.Zones[zi].Kind)
			if closed && (doms == nil || slices.Contains(doms, p.Domain)) {
				inside = append(inside, zi)
			}
		}
	}
	for _, zi := range inside {
		if !slices.Contains(u.zones, zi) {
			a := alert(truce.AlertKeepOut)
			a.Zone = m.agr.Zones[zi].ID
			alerts = append(alerts, a)
		}
	}
	u.zones = append(u.zones[:0], inside...)
	// Conformance with the activity under way.
	t := p.Time.UnixMicro()
	id, vols := m.p.underWay(p.Unit, t)
	if id != u.activity {
		u.activity, u.nonconf = id, false
	}
	if id != "" {
		gap := m.outside(p, vols)
		switch {
		case gap > 0 && !u.nonconf:
			u.nonconf = true
			a := alert(truce.AlertNonconforming)
			a.Activity, a.Distance = id, gap
			alerts = append(alerts, a)
		case gap == 0 && u.nonconf:
			u.nonconf = false
			a := alert(truce.AlertConforming)
			a.Activity = id
			alerts = append(alerts, a)
		}
	}
	if p.Domain == truce.DomainAir {
		alerts = m.proximity(u, alerts)
	} else if u.inAir {
		m.leaveAir(u)
		for _, o := range u.partners {
			o.partners = slices.DeleteFunc(o.partners, func(x *unitState) bool { return x == u })
		}
		u.partners = nil
	}
	return alerts
}

// classify returns the place of pt, or nil outside every zone.
func (m *Monitor) classify(pt geo.Point) *agreement.Place {
	if !m.zoned.Contains(pt) {
		return nil
	}
	return m.place.Classify(pt)
}

// outside returns how far, in metres, p lies outside every volume of its
// activity under way, beyond the margins; 0 when it conforms. Land and sea
// units are not held to the altitude band.
func (m *Monitor) outside(p *truce.Position, vols []Vol) float64 {
	mg := m.agr.Coalition.Margins[p.Domain]
	t := p.Time.UnixMicro()
	dt := mg.Time.Microseconds()
	best := math.Inf(1)
	for i := range vols {
		v := &vols[i]
		if t < v.From-dt || t >= v.Until+dt {
			continue
		}
		if p.Domain == truce.DomainAir && (p.Alt < v.MinAlt-mg.Vertical || p.Alt > v.MaxAlt+mg.Vertical) {
			best = min(best, mg.Horizontal+1) // outside the band: counts as outside
			continue
		}
		d := v.Shape.DistanceTo(p.Point)
		if d <= mg.Horizontal {
			return 0
		}
		best = min(best, d)
	}
	if math.IsInf(best, 1) {
		return 0 // no volume in time: the plan does not say where it should be
	}
	return best
}

func (m *Monitor) cellOf(p geo.Point) uint64 {
	la := int64(math.Floor((p.Lat + 90) / m.airCell))
	lo := int64(math.Floor((p.Lon + 180) / m.airCell))
	return uint64(la)<<32 | uint64(lo)&0xffffffff
}

func (m *Monitor) leaveAir(u *unitState) {
	cell := m.air[u.cell]
	cell = slices.DeleteFunc(cell, func(o *unitState) bool { return o == u })
	if len(cell) == 0 {
		delete(m.air, u.cell)
	} else {
		m.air[u.cell] = cell
	}
	u.inAir = false
}

// proximity moves u in the air grid and reports aircraft of other nations
// newly closer than the air separation.
func (m *Monitor) proximity(u *unitState, alerts []truce.TrackAlert) []truce.TrackAlert {
	c := m.cellOf(u.pos.Point)
	if !u.inAir || c != u.cell {
		if u.inAir {
			m.leaveAir(u)
		}
		u.cell, u.inAir = c, true
		m.air[c] = append(m.air[c], u)
	}
	sep := m.agr.Coalition.Margins[truce.DomainAir]
	// Cells are sep wide in latitude; in longitude they are narrower in
	// metres, so look as many cells east and west as the latitude needs.
	span := int64(math.Ceil(1 / math.Max(math.Cos(u.pos.Point.Lat*math.Pi/180), 0.05)))
	la, lo := int64(c>>32), int64(uint32(c))
	// Pairs no longer close part; those still close stay (and are seen
	// again below without a new alert).
	for _, o := range slices.Clone(u.partners) {
		if !m.tooClose(u, o, sep) {
			u.partners = slices.DeleteFunc(u.partners, func(x *unitState) bool { return x == o })
			o.partners = slices.DeleteFunc(o.partners, func(x *unitState) bool { return x == u })
		}
	}
	for dla := int64(-1); dla <= 1; dla++ {
		for dlo := -span; dlo <= span; dlo++ {
			for _, o := range m.air[uint64(la+dla)<<32|uint64(lo+dlo)&0xffffffff] {
				if o == u || o.pos.Nation == u.pos.Nation || slices.Contains(u.partners, o) || !m.tooClose(u, o, sep) {
					continue
				}
				u.partners = append(u.partners, o)
				o.partners = append(o.partners, u)
				alerts = append(alerts, truce.TrackAlert{Kind: truce.AlertProximity, Unit: u.unit, Nation: u.pos.Nation, Time: u.pos.Time,
					Point: u.pos.Point, Other: o.unit, Distance: geo.Distance(u.pos.Point, o.pos.Point)})
			}
		}
	}
	return alerts
}

// tooClose reports whether aircraft u and o, both in the air and o's
// position recent, are closer than the separation.
func (m *Monitor) tooClose(u, o *unitState, sep truce.Margin) bool {
	if !o.inAir || !u.inAir || u.pos.Time.Sub(o.pos.Time) > m.StaleAfter || math.Abs(u.pos.Alt-o.pos.Alt) >= sep.Vertical {
		return false
	}
	return geo.Distance(u.pos.Point, o.pos.Point) < sep.Horizontal
}

// Units returns the last position of every unit seen, by unit.
func (m *Monitor) Units() []truce.Position {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]truce.Position, 0, len(m.units))
	for _, u := range m.units {
		out = append(out, u.pos)
	}
	slices.SortFunc(out, func(a, b truce.Position) int { return strings.Compare(a.Unit, b.Unit) })
	return out
}

// SetConformance records that activity id's unit left (conforming false)
// or re-entered its volumes (Conform for one alert). It reports whether
// the state changed.
func (p *Planner) SetConformance(id string, conforming bool, commit func(truce.Activity) error) (truce.Activity, bool, error) {
	k := truce.AlertNonconforming
	if conforming {
		k = truce.AlertConforming
	}
	changed, err := p.Conform([]truce.TrackAlert{{Kind: k, Activity: id}}, func(as []truce.Activity) error { return commit(as[0]) })
	if err != nil || len(changed) == 0 {
		a, _ := p.Activity(id)
		return a, false, err
	}
	return changed[0], true, nil
}
