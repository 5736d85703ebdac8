package deconflict

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/truce-dev/truce/internal/truce"
)

// Planner holds the coalition's activities and decides plans: it checks
// each against every activity that reserves its volumes, the agreement's
// zones closed to the plan's domain and the nation's caveats. Decisions are
// made one at a time, and each is committed (journaled) before it takes
// effect, so two plans that conflict cannot both be accepted. Safe for
// concurrent use.
type Planner struct {
	decide sync.Mutex // held across check, commit and apply
	mu     sync.RWMutex
	agr    *truce.Agreement
	idx    *Index
	acts   map[string]*record
	byUnit map[string][]*record
	owners []*record
	zones  []zoneRule
	caveat map[truce.NationID]*truce.Caveat
}

type record struct {
	a     truce.Activity
	owner int32
	ids   []uint32 // index ids while the activity reserves its volumes
	vols  []Vol
}

// zoneRule is an agreement zone closed to some domains.
type zoneRule struct {
	zone    *truce.Zone
	domains []truce.Domain // nil: every domain
	band    float64        // band zones: the width kept from the line
}

// ClosedTo returns the domains a zone of kind k is closed to, and whether
// it is closed to coalition forces at all: keep-out zones to every domain,
// no-fly zones to aircraft and maritime zones to vessels.
func ClosedTo(k truce.ZoneKind) ([]truce.Domain, bool) {
	switch k {
	case truce.ZoneKeepOut:
		return nil, true
	case truce.ZoneNoFly:
		return []truce.Domain{truce.DomainAir}, true
	case truce.ZoneMaritime:
		return []truce.Domain{truce.DomainSea}, true
	}
	return nil, false
}

// NewPlanner returns a Planner for agreement a, holding no activities.
func NewPlanner(a *truce.Agreement, opt IndexOptions) *Planner {
	p := &Planner{agr: a, idx: NewIndex(&a.Coalition, opt), acts: map[string]*record{}, byUnit: map[string][]*record{}, caveat: map[truce.NationID]*truce.Caveat{}}
	for i := range a.Zones {
		z := &a.Zones[i]
		doms, ok := ClosedTo(z.Kind)
		if !ok {
			continue
		}
		r := zoneRule{zone: z, domains: doms}
		for _, d := range z.Distance {
			r.band = max(r.band, d)
		}
		p.zones = append(p.zones, r)
	}
	for i := range a.Coalition.Caveats {
		c := &a.Coalition.Caveats[i]
		p.caveat[c.Nation] = c
	}
	return p
}

// Limits on a plan.
const (
	MaxVolumes     = 100
	MaxVolumeSpan  = 14 * 24 * time.Hour
	MinAltitude    = -1000.0
	MaxAltitude    = 30000.0
	MaxPriority    = 100
	maxTextLen     = 200
	maxCorridorPts = 1000
)

// Validate checks a plan's fields and compiles its volumes. Problems name
// the field and the reason.
func Validate(a *truce.Activity) ([]Vol, error) {
	var probs truce.Problems
	rec := "activity"
	if a.ID != "" {
		rec = "activity " + a.ID
	}
	bad := func(field, format string, args ...any) {
		probs = append(probs, &truce.ValidationError{Record: rec, Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	if !truce.ValidOrgID(string(a.Nation)) {
		bad("nation", "%q is not a nation id (1-64 letters, digits, '-', '_' or '.')", a.Nation)
	}
	if a.Unit == "" || len(a.Unit) > maxTextLen || strings.TrimSpace(a.Unit) != a.Unit {
		bad("unit", "must be 1 to %d characters without surrounding spaces", maxTextLen)
	}
	if !a.Domain.Valid() {
		_, err := truce.ParseDomain(string(a.Domain))
		bad("domain", "%v", err)
	}
	if !a.Kind.Valid() {
		_, err := truce.ParseActivityKind(string(a.Kind))
		bad("kind", "%v", err)
	}
	if a.Priority < 0 || a.Priority > MaxPriority {
		bad("priority", "must be between 0 and %d, not %d", MaxPriority, a.Priority)
	}
	if len(a.Note) > 2000 {
		bad("note", "is %d bytes, more than 2000", len(a.Note))
	}
	if len(a.Volumes) == 0 || len(a.Volumes) > MaxVolumes {
		bad("volumes", "must hold 1 to %d volumes, not %d", MaxVolumes, len(a.Volumes))
	}
	var vols []Vol
	for i, v := range a.Volumes {
		f := fmt.Sprintf("volumes[%d]", i)
		forms := 0
		if v.Footprint.Polygon != nil {
			forms++
		}
		if v.Footprint.Circle != nil {
			forms++
		}
		if v.Footprint.Path != nil {
			forms++
		}
		if forms != 1 {
			bad(f+".footprint", "must be exactly one of polygon, circle or corridor, not %d", forms)
			continue
		}
		if v.Period.From.IsZero() || v.Period.Until.IsZero() {
			bad(f+".period", "needs both from and until")
		} else if !v.Period.Until.After(v.Period.From) {
			bad(f+".period", "until %s is not after from %s", v.Period.Until.Format(time.RFC3339), v.Period.From.Format(time.RFC3339))
		} else if d := v.Period.Until.Sub(v.Period.From); d > MaxVolumeSpan {
			bad(f+".period", "lasts %s, longer than %s: split it into volumes", d, MaxVolumeSpan)
		}
		if !(v.MinAlt >= MinAltitude && v.MaxAlt <= MaxAltitude && v.MinAlt <= v.MaxAlt) {
			bad(f+".altitude", "band %g..%g m must lie within %g..%g m, lowest first", v.MinAlt, v.MaxAlt, MinAltitude, MaxAltitude)
		}
		c, err := Compile(v)
		if err != nil {
			bad(f+".footprint", "%v", err)
			continue
		}
		if c.Bound.MinLon > c.Bound.MaxLon {
			bad(f+".footprint", "crosses the antimeridian, which truce does not handle")
			continue
		}
		c.Domain, c.Priority, c.Index = a.Domain, a.Priority, int32(i)
		vols = append(vols, c)
	}
	if err := probs.Err(); err != nil {
		return nil, err
	}
	return vols, nil
}

// Check returns what plan conflicts with, without deciding it. The plan's
// own earlier version (same ID) is not a conflict.
func (p *Planner) Check(plan *truce.Activity) ([]truce.Conflict, error) {
	vols, err := Validate(plan)
	if err != nil {
		return nil, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.conflicts(plan, vols), nil
}

func (p *Planner) conflicts(plan *truce.Activity, vols []Vol) []truce.Conflict {
	var out []truce.Conflict
	self := int32(-1)
	if r := p.acts[plan.ID]; r != nil {
		self = r.owner
	}
	m := func(b truce.Domain) truce.Margin { return p.agr.Coalition.Margin(plan.Domain, b) }
	for i := range vols {
		q := &vols[i]
		q.Owner = self
		p.idx.Near(q, func(_ uint32, v *Vol) bool {
			if v.Owner == self {
				return true
			}
			other := p.owners[v.Owner]
			c := truce.Conflict{Kind: truce.ConflictActivity, Volume: i, With: other.a.ID, WithVolume: int(v.Index)}
			switch {
			case v.Priority > plan.Priority:
				c.Rule = truce.RuleHigherPriority
			case v.Priority == plan.Priority && !p.agr.Coalition.EqualPriorityOverlap:
				c.Rule = truce.RuleEqualPriority
			case v.Priority == plan.Priority:
				c.Rule = truce.RuleEqualPriorityAllowed
			default:
				c.Rule = truce.RuleLowerPriority
			}
			c.Blocking = truce.RuleBlocks(c.Rule)
			mg := m(v.Domain)
			c.Distance, c.Where = q.Shape.Gap(v.Shape)
			dt := mg.Time.Microseconds()
			c.When = truce.TimeRange{From: time.UnixMicro(max(q.From, v.From-dt)).UTC(), Until: time.UnixMicro(min(q.Until, v.Until+dt)).UTC()}
			c.MinAlt, c.MaxAlt = max(q.MinAlt, v.MinAlt-mg.Vertical), min(q.MaxAlt, v.MaxAlt+mg.Vertical)
			out = append(out, c)
			return true
		})
		period := truce.TimeRange{From: time.UnixMicro(q.From).UTC(), Until: time.UnixMicro(q.Until).UTC()}
		for _, z := range p.zones {
			if z.domains != nil && !slices.Contains(z.domains, plan.Domain) {
				continue
			}
			var gap float64
			if z.zone.IsBand() {
				gap = q.Shape.GapToLine(p.agr.Line)
				if gap >= z.band {
					continue
				}
				gap = 0
			} else if z.zone.Area != nil {
				if gap = q.Shape.GapToRegion(z.zone.Area); gap > 0 {
					continue
				}
			} else {
				continue
			}
			out = append(out, truce.Conflict{Kind: truce.ConflictZone, Volume: i, With: z.zone.ID, Blocking: true, Rule: string(z.zone.Kind),
				Where: q.Shape.Anchor(), Distance: gap, When: period, MinAlt: q.MinAlt, MaxAlt: q.MaxAlt})
		}
		if cv := p.caveat[plan.Nation]; cv != nil {
			c := truce.Conflict{Kind: truce.ConflictCaveat, Volume: i, With: cv.Name, Blocking: true, Where: q.Shape.Anchor(), When: period, MinAlt: q.MinAlt, MaxAlt: q.MaxAlt}
			if len(cv.Domains) > 0 && !slices.Contains(cv.Domains, plan.Domain) {
				c.Rule = "domain"
				out = append(out, c)
			}
			if cv.Within != nil && !q.Shape.InsideRegion(cv.Within) {
				c.Rule = "outside_permitted_region"
				out = append(out, c)
			}
			if cv.Outside != nil && q.Shape.GapToRegion(cv.Outside) == 0 {
				c.Rule = "inside_forbidden_region"
				out = append(out, c)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b truce.Conflict) int {
		if a.Volume != b.Volume {
			return a.Volume - b.Volume
		}
		if a.Kind != b.Kind {
			return strings.Compare(string(a.Kind), string(b.Kind))
		}
		if a.With != b.With {
			return strings.Compare(a.With, b.With)
		}
		return a.WithVolume - b.WithVolume
	})
	return out
}

// Blocking reports whether any of cs refuses the plan.
func Blocking(cs []truce.Conflict) bool {
	return slices.ContainsFunc(cs, func(c truce.Conflict) bool { return c.Blocking })
}

// RefusedError is returned for a revision of an activity under way that
// conflicts: the activity stays as it was, and Plan holds the revision
// with its conflicts. It matches truce.ErrConflict.
type RefusedError struct {
	Plan truce.Activity
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("deconflict: revision of activity %s under way conflicts; the activity stays as it was", e.Plan.ID)
}

// Is reports whether target is truce.ErrConflict.
func (e *RefusedError) Is(target error) bool { return target == truce.ErrConflict }

// ErrStale is returned (wrapping truce.ErrConflict) for a change made
// against a version that is no longer the activity's.
var ErrStale = fmt.Errorf("%w: stale version", truce.ErrConflict)

// Propose decides a new plan: accepted when nothing blocks it, rejected
// with its conflicts otherwise. commit must record the decision durably
// (the journal); the decision takes effect only when it returns nil. The
// plan's ID must be new.
func (p *Planner) Propose(plan truce.Activity, commit func(truce.Activity) error) (truce.Activity, error) {
	vols, err := Validate(&plan)
	if err != nil {
		return truce.Activity{}, err
	}
	p.decide.Lock()
	defer p.decide.Unlock()
	p.mu.RLock()
	_, exists := p.acts[plan.ID]
	p.mu.RUnlock()
	if exists {
		return truce.Activity{}, fmt.Errorf("deconflict: activity %s already exists: %w", plan.ID, truce.ErrConflict)
	}
	plan.Version = 1
	return p.decideLocked(plan, vols, commit)
}

func (p *Planner) decideLocked(plan truce.Activity, vols []Vol, commit func(truce.Activity) error) (truce.Activity, error) {
	p.mu.RLock()
	plan.Conflicts = p.conflicts(&plan, vols)
	p.mu.RUnlock()
	if plan.State == "" || plan.State == truce.ActivityProposed || plan.State == truce.ActivityRejected || plan.State == truce.ActivityAccepted {
		plan.State = truce.ActivityAccepted
		if Blocking(plan.Conflicts) {
			plan.State = truce.ActivityRejected
		}
	} else if Blocking(plan.Conflicts) {
		// A revision of an activity under way that would conflict is
		// refused outright: the activity stays as it was.
		return plan, &RefusedError{Plan: plan}
	}
	if err := commit(plan); err != nil {
		return truce.Activity{}, err
	}
	p.apply(plan, vols)
	return plan, nil
}

// Revise replaces the plan of activity id, made against version; it is
// checked again like a new plan. A stale version is ErrStale.
func (p *Planner) Revise(plan truce.Activity, version int, commit func(truce.Activity) error) (truce.Activity, error) {
	vols, err := Validate(&plan)
	if err != nil {
		return truce.Activity{}, err
	}
	p.decide.Lock()
	defer p.decide.Unlock()
	cur, err := p.current(plan.ID, version)
	if err != nil {
		return truce.Activity{}, err
	}
	switch cur.State {
	case truce.ActivityEnded, truce.ActivityCancelled:
		return truce.Activity{}, fmt.Errorf("deconflict: activity %s is %s and cannot be revised: %w", plan.ID, cur.State, truce.ErrConflict)
	}
	if cur.Nation != plan.Nation {
		return truce.Activity{}, fmt.Errorf("deconflict: activity %s belongs to %s, not %s: %w", plan.ID, cur.Nation, plan.Nation, truce.ErrConflict)
	}
	plan.Version = cur.Version + 1
	plan.State = cur.State
	return p.decideLocked(plan, vols, commit)
}

func (p *Planner) current(id string, version int) (truce.Activity, error) {
	p.mu.RLock()
	r := p.acts[id]
	p.mu.RUnlock()
	if r == nil {
		return truce.Activity{}, fmt.Errorf("deconflict: activity %s: %w", id, truce.ErrNotFound)
	}
	if version != r.a.Version {
		return r.a, fmt.Errorf("deconflict: activity %s is at version %d, not %d: %w", id, r.a.Version, version, ErrStale)
	}
	return r.a, nil
}

// transitions lists, for each state an action leads to, the states it may
// start from.
var transitions = map[truce.ActivityState][]truce.ActivityState{
	truce.ActivityActive:    {truce.ActivityAccepted},
	truce.ActivityEnded:     {truce.ActivityActive, truce.ActivityNonconforming},
	truce.ActivityCancelled: {truce.ActivityProposed, truce.ActivityAccepted, truce.ActivityRejected, truce.ActivityActive, truce.ActivityNonconforming},
}

// ErrTransition is returned (wrapping truce.ErrConflict) for an action the
// activity's state does not allow.
var ErrTransition = fmt.Errorf("%w: not allowed in this state", truce.ErrConflict)

// Transition moves activity id to state to (active, ended or cancelled),
// made against version.
func (p *Planner) Transition(id string, version int, to truce.ActivityState, commit func(truce.Activity) error) (truce.Activity, error) {
	from, ok := transitions[to]
	if !ok {
		return truce.Activity{}, fmt.Errorf("deconflict: no action leads to state %q: %w", to, truce.ErrInvalid)
	}
	p.decide.Lock()
	defer p.decide.Unlock()
	cur, err := p.current(id, version)
	if err != nil {
		return truce.Activity{}, err
	}
	if !slices.Contains(from, cur.State) {
		return truce.Activity{}, fmt.Errorf("deconflict: activity %s is %s and cannot become %s: %w", id, cur.State, to, ErrTransition)
	}
	cur.State = to
	cur.Version++
	if err := commit(cur); err != nil {
		return truce.Activity{}, err
	}
	p.mu.Lock()
	p.setLocked(cur, nil)
	p.mu.Unlock()
	return cur, nil
}

// Conform records what conformance alerts (nonconforming, conforming)
// say of the activities under way: an active activity whose unit left its
// volumes becomes nonconforming, and active again when it returns. It
// returns the activities changed, each change a new version, in the order
// of the alerts; commit journals them all at once before they take effect.
// Other alerts, and alerts about activities no longer under way, change
// nothing.
func (p *Planner) Conform(alerts []truce.TrackAlert, commit func([]truce.Activity) error) ([]truce.Activity, error) {
	p.decide.Lock()
	defer p.decide.Unlock()
	cur := map[string]truce.Activity{}
	var changed []truce.Activity
	for _, al := range alerts {
		if al.Activity == "" || (al.Kind != truce.AlertNonconforming && al.Kind != truce.AlertConforming) {
			continue
		}
		a, ok := cur[al.Activity]
		if !ok {
			p.mu.RLock()
			r := p.acts[al.Activity]
			p.mu.RUnlock()
			if r == nil {
				continue
			}
			a = r.a
		}
		want := truce.ActivityNonconforming
		if al.Kind == truce.AlertConforming {
			want = truce.ActivityActive
		}
		if a.State == want || (a.State != truce.ActivityActive && a.State != truce.ActivityNonconforming) {
			continue
		}
		a.State = want
		a.Version++
		cur[a.ID] = a
		changed = append(changed, a)
	}
	if len(changed) == 0 {
		return nil, nil
	}
	if err := commit(changed); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range changed {
		p.setLocked(a, nil)
	}
	return changed, nil
}

// Apply records activity a as journaled, replacing any earlier version; it
// is how a planner is rebuilt from the journal. An activity that does not
// validate is an error (the journal holds only validated activities).
func (p *Planner) Apply(a truce.Activity) error {
	vols, err := Validate(&a)
	if err != nil {
		return fmt.Errorf("deconflict: apply activity %s: %w", a.ID, err)
	}
	p.apply(a, vols)
	return nil
}

func (p *Planner) apply(a truce.Activity, vols []Vol) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setLocked(a, vols)
}

// setLocked records a; vols, when not nil, replace its volumes.
func (p *Planner) setLocked(a truce.Activity, vols []Vol) {
	r := p.acts[a.ID]
	if r == nil {
		r = &record{owner: int32(len(p.owners))}
		p.owners = append(p.owners, r)
		p.acts[a.ID] = r
	}
	if r.a.Unit != a.Unit {
		if old := p.byUnit[r.a.Unit]; r.a.Unit != "" {
			p.byUnit[r.a.Unit] = slices.DeleteFunc(old, func(o *record) bool { return o == r })
		}
		p.byUnit[a.Unit] = append(p.byUnit[a.Unit], r)
	}
	if vols != nil || !a.State.Reserves() {
		for _, id := range r.ids {
			p.idx.Remove(id)
		}
		r.ids = r.ids[:0]
	}
	if vols != nil {
		r.vols = vols
	}
	r.a = a
	if a.State.Reserves() && len(r.ids) == 0 {
		for _, v := range r.vols {
			v.Owner = r.owner
			r.ids = append(r.ids, p.idx.Add(v))
		}
	}
}

// Activity returns activity id.
func (p *Planner) Activity(id string) (truce.Activity, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	r := p.acts[id]
	if r == nil {
		return truce.Activity{}, false
	}
	return r.a, true
}

// Filter selects activities; zero fields do not filter.
type Filter struct {
	Nation truce.NationID
	Unit   string
	States []truce.ActivityState
	// At, when set, keeps activities whose period holds it.
	At time.Time
}

// Activities returns the activities that match f, by id.
func (p *Planner) Activities(f Filter) []truce.Activity {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []truce.Activity
	for _, r := range p.acts {
		a := &r.a
		if (f.Nation != "" && a.Nation != f.Nation) || (f.Unit != "" && a.Unit != f.Unit) ||
			(len(f.States) > 0 && !slices.Contains(f.States, a.State)) || (!f.At.IsZero() && !a.Period().Contains(f.At)) {
			continue
		}
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b truce.Activity) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Reserved returns the number of volumes held against new plans.
func (p *Planner) Reserved() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.idx.Len()
}

// underWay returns the volumes of unit's activity under way at t (active
// or nonconforming), and its id; nil when it has none.
func (p *Planner) underWay(unit string, t int64) (string, []Vol) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, r := range p.byUnit[unit] {
		if r.a.State != truce.ActivityActive && r.a.State != truce.ActivityNonconforming {
			continue
		}
		for _, v := range r.vols {
			if t >= v.From && t < v.Until {
				return r.a.ID, r.vols
			}
		}
	}
	return "", nil
}
