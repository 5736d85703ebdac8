package pledge

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/truce-dev/truce/internal/truce"
)

// DefaultAckWithin is how long a nation has to acknowledge an activation
// before it is overdue, unless Options say otherwise.
const DefaultAckWithin = 12 * time.Hour

// Options tune a Book; zero values take the defaults.
type Options struct {
	// AckWithin is how long after its trigger an activation falls due.
	AckWithin time.Duration
}

// Book holds the commitments. Changes are made one at a time, each
// committed (journaled) by the caller before it takes effect. Safe for
// concurrent use.
type Book struct {
	decide    sync.Mutex // held across check, commit and apply
	mu        sync.RWMutex
	ackWithin time.Duration
	pledges   map[string]*truce.Pledge
	reqs      map[string]*truce.Requirement
	acts      map[string]*truce.Activation
	support   map[string]*truce.Support
}

// NewBook returns an empty Book.
func NewBook(opt Options) *Book {
	if opt.AckWithin <= 0 {
		opt.AckWithin = DefaultAckWithin
	}
	return &Book{ackWithin: opt.AckWithin, pledges: map[string]*truce.Pledge{}, reqs: map[string]*truce.Requirement{},
		acts: map[string]*truce.Activation{}, support: map[string]*truce.Support{}}
}

var (
	idPattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	nationPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	donorPattern  = regexp.MustCompile(`^[A-Z]{2,5}$`)
	regionPattern = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)
)

const maxText = 2000

type problems struct {
	rec   string
	probs truce.Problems
}

func (p *problems) add(field, format string, args ...any) {
	p.probs = append(p.probs, &truce.ValidationError{Record: p.rec, Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (p *problems) text(field, s string, limit int) {
	if len(s) > limit {
		p.add(field, "is %d bytes, more than %d", len(s), limit)
	}
}

func (p *problems) marking(m truce.Marking) {
	if !m.TLP.Valid() {
		p.add("marking", "TLP label %q is not one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED", m.TLP)
	}
}

func (p *problems) quantity(q float64, unit string) {
	if !(q > 0) || q > 1e15 {
		p.add("quantity", "must be above 0 and at most 1e15, not %g", q)
	}
	if unit == "" || len(unit) > 40 || strings.TrimSpace(unit) != unit {
		p.add("unit", "must be 1 to 40 characters without surrounding spaces")
	}
}

// ValidatePledge checks a pledge's own fields (not its history).
func ValidatePledge(pl *truce.Pledge) error {
	p := problems{rec: "pledge " + pl.ID}
	if !idPattern.MatchString(pl.ID) {
		p.add("id", "%q must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", pl.ID)
	}
	if !nationPattern.MatchString(string(pl.Nation)) {
		p.add("nation", "%q is not an ISO 3166 alpha-3 code such as GBR", pl.Nation)
	}
	if !pl.Capability.Valid() {
		_, err := truce.ParseCapability(string(pl.Capability))
		p.add("capability", "%v", err)
	}
	p.quantity(pl.Quantity, pl.Unit)
	if pl.Requirement != "" && !idPattern.MatchString(pl.Requirement) {
		p.add("requirement", "%q is not a requirement id", pl.Requirement)
	}
	switch {
	case pl.Contingent && pl.Trigger == "":
		p.add("trigger", "a contingent pledge names the trigger it answers (%s for the agreement's)", truce.RenewedAggression)
	case !pl.Contingent && pl.Trigger != "":
		p.add("trigger", "only a contingent pledge answers a trigger")
	case pl.Trigger != "" && !regionPattern.MatchString(pl.Trigger):
		p.add("trigger", "%q must be lower-case letters, digits and '_'", pl.Trigger)
	}
	for _, d := range pl.Caveat.Domains {
		if !d.Valid() {
			_, err := truce.ParseDomain(string(d))
			p.add("caveat.domains", "%v", err)
		}
	}
	if pl.Caveat.Within != "" && !regionPattern.MatchString(pl.Caveat.Within) {
		p.add("caveat.within", "%q must be a region name: lower-case letters, digits and '_'", pl.Caveat.Within)
	}
	p.text("caveat.text", pl.Caveat.Text, maxText)
	p.text("approval", pl.Approval, 200)
	p.text("note", pl.Note, maxText)
	p.marking(pl.Marking)
	return p.probs.Err()
}

// ValidateRequirement checks a requirement's fields.
func ValidateRequirement(r *truce.Requirement) error {
	p := problems{rec: "requirement " + r.ID}
	if !idPattern.MatchString(r.ID) {
		p.add("id", "%q must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", r.ID)
	}
	if !r.Capability.Valid() {
		_, err := truce.ParseCapability(string(r.Capability))
		p.add("capability", "%v", err)
	}
	p.quantity(r.Quantity, r.Unit)
	if r.Domain != "" && !r.Domain.Valid() {
		_, err := truce.ParseDomain(string(r.Domain))
		p.add("domain", "%v", err)
	}
	if r.Where != "" && !regionPattern.MatchString(r.Where) {
		p.add("where", "%q must be a region name: lower-case letters, digits and '_'", r.Where)
	}
	p.text("note", r.Note, maxText)
	p.marking(r.Marking)
	return p.probs.Err()
}

// ValidateSupport checks a support record's fields.
func ValidateSupport(s *truce.Support) error {
	p := problems{rec: "support " + s.ID}
	if !idPattern.MatchString(s.ID) {
		p.add("id", "%q must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", s.ID)
	}
	if !donorPattern.MatchString(string(s.Donor)) {
		p.add("donor", "%q is not a donor code such as DEU or EU", s.Donor)
	}
	if !s.Type.Valid() {
		_, err := truce.ParseSupportType(string(s.Type))
		p.add("type", "%v", err)
	}
	if !s.Stage.Valid() {
		_, err := truce.ParseSupportStage(string(s.Stage))
		p.add("stage", "%v", err)
	}
	if s.Item == "" {
		p.add("item", "is required")
	}
	p.text("item", s.Item, 500)
	if !(s.ValueEUR >= 0) || s.ValueEUR > 1e15 {
		p.add("value_eur", "must be between 0 and 1e15, not %g", s.ValueEUR)
	}
	if !(s.DeliveredEUR >= 0) || s.DeliveredEUR > s.ValueEUR {
		p.add("delivered_eur", "must be between 0 and the value, %g, not %g", s.ValueEUR, s.DeliveredEUR)
	}
	if s.Announced.IsZero() {
		p.add("announced", "is required")
	}
	p.text("source", s.Source, maxText)
	p.marking(s.Marking)
	return p.probs.Err()
}

// checkChange checks a stage change of pledge pl (nil for a new pledge).
func checkChange(pl *truce.Pledge, c truce.StageChange, id string) error {
	p := problems{rec: "pledge " + id}
	if !c.Stage.Valid() {
		_, err := truce.ParsePledgeStage(string(c.Stage))
		p.add("stage", "%v", err)
		return p.probs.Err()
	}
	if c.Date.IsZero() {
		p.add("stage_date", "is required")
	}
	p.text("stage_by", c.By, 200)
	p.text("stage_reference", c.Reference, 500)
	if pl == nil {
		if c.Stage == truce.StageWithdrawn {
			p.add("stage", "a pledge cannot begin withdrawn")
		}
		return p.probs.Err()
	}
	last := pl.History[len(pl.History)-1]
	switch {
	case pl.Stage == truce.StageWithdrawn:
		return fmt.Errorf("pledge %s was withdrawn on %s; it cannot become %s: %w", id, last.Date.Format(time.DateOnly), c.Stage, truce.ErrConflict)
	case pl.Stage.Rank() == 4:
		return fmt.Errorf("pledge %s is %s, its last stage; it cannot become %s: %w", id, pl.Stage, c.Stage, truce.ErrConflict)
	case c.Stage != truce.StageWithdrawn && c.Stage.Rank() <= pl.Stage.Rank():
		return fmt.Errorf("pledge %s is %s; it cannot go back or stay at %s (stages go forward: proposed, announced, approved, ready, deployed or delivered): %w",
			id, pl.Stage, c.Stage, truce.ErrConflict)
	case c.Date.Before(last.Date):
		p.add("stage_date", "%s is before the pledge's last change, %s", c.Date.Format(time.DateOnly), last.Date.Format(time.DateOnly))
	case pl.Approval != "" && c.Stage == truce.StageApproved && c.Reference == "":
		p.add("stage_reference", "approval by %s needs its reference, such as the vote", pl.Approval)
	}
	return p.probs.Err()
}

// AddPledge records a new pledge at the stage change gives. commit
// journals the result before it takes effect.
func (b *Book) AddPledge(pl truce.Pledge, change truce.StageChange, commit func(truce.Pledge) error) (truce.Pledge, error) {
	if err := ValidatePledge(&pl); err != nil {
		return truce.Pledge{}, err
	}
	if err := checkChange(nil, change, pl.ID); err != nil {
		return truce.Pledge{}, err
	}
	b.decide.Lock()
	defer b.decide.Unlock()
	b.mu.RLock()
	_, exists := b.pledges[pl.ID]
	b.mu.RUnlock()
	if exists {
		return truce.Pledge{}, fmt.Errorf("pledge %s already exists: %w", pl.ID, truce.ErrConflict)
	}
	pl.Stage, pl.History, pl.Version = change.Stage, []truce.StageChange{change}, 1
	if err := commit(pl); err != nil {
		return truce.Pledge{}, err
	}
	b.ApplyPledge(pl)
	return pl, nil
}

// Advance moves pledge id to the stage change gives, made against version
// (0: any). Stages go forward only; a pledge is withdrawn from any stage
// before its last. quantity, when positive, replaces the pledged quantity
// (a pledge may grow or shrink as it is approved).
func (b *Book) Advance(id string, version int, change truce.StageChange, quantity float64, commit func(truce.Pledge) error) (truce.Pledge, error) {
	b.decide.Lock()
	defer b.decide.Unlock()
	b.mu.RLock()
	cur, ok := b.pledges[id]
	var pl truce.Pledge
	if ok {
		pl = *cur
		pl.History = slices.Clone(cur.History)
	}
	b.mu.RUnlock()
	if !ok {
		return truce.Pledge{}, fmt.Errorf("pledge %s: %w", id, truce.ErrNotFound)
	}
	if version != 0 && version != pl.Version {
		return truce.Pledge{}, fmt.Errorf("pledge %s is at version %d, not %d: %w", id, pl.Version, version, truce.ErrConflict)
	}
	if err := checkChange(&pl, change, id); err != nil {
		return truce.Pledge{}, err
	}
	if quantity > 0 {
		pl.Quantity = quantity
		if err := ValidatePledge(&pl); err != nil {
			return truce.Pledge{}, err
		}
	}
	pl.Stage = change.Stage
	pl.History = append(pl.History, change)
	pl.Version++
	if err := commit(pl); err != nil {
		return truce.Pledge{}, err
	}
	b.ApplyPledge(pl)
	return pl, nil
}

// PutRequirement records a requirement, new (version 0) or replacing the
// one at version.
func (b *Book) PutRequirement(r truce.Requirement, version int, commit func(truce.Requirement) error) (truce.Requirement, error) {
	if err := ValidateRequirement(&r); err != nil {
		return truce.Requirement{}, err
	}
	b.decide.Lock()
	defer b.decide.Unlock()
	b.mu.RLock()
	cur := b.reqs[r.ID]
	b.mu.RUnlock()
	switch {
	case cur == nil && version != 0:
		return truce.Requirement{}, fmt.Errorf("requirement %s: %w", r.ID, truce.ErrNotFound)
	case cur != nil && version != cur.Version:
		return truce.Requirement{}, fmt.Errorf("requirement %s is at version %d, not %d: %w", r.ID, cur.Version, version, truce.ErrConflict)
	}
	r.Version = version + 1
	if err := commit(r); err != nil {
		return truce.Requirement{}, err
	}
	b.ApplyRequirement(r)
	return r, nil
}

// AddSupport records a support record, new or replacing one of the same id.
func (b *Book) AddSupport(s truce.Support, commit func(truce.Support) error) (truce.Support, error) {
	if err := ValidateSupport(&s); err != nil {
		return truce.Support{}, err
	}
	b.decide.Lock()
	defer b.decide.Unlock()
	if err := commit(s); err != nil {
		return truce.Support{}, err
	}
	b.ApplySupport(s)
	return s, nil
}

// ActivationID names the activation of pledge by a trigger firing at at.
func ActivationID(pledge string, at time.Time) string {
	return fmt.Sprintf("%s@%s", pledge, at.UTC().Format("20060102T150405Z"))
}

// Trigger activates every contingent pledge (not withdrawn) that answers
// trigger, fired at at: each becomes an activation due AckWithin later. A
// pledge already activated by the same firing is not activated again.
func (b *Book) Trigger(trigger string, at time.Time, commit func([]truce.Activation) error) ([]truce.Activation, error) {
	b.decide.Lock()
	defer b.decide.Unlock()
	b.mu.RLock()
	var out []truce.Activation
	for _, pl := range b.pledges {
		if !pl.Contingent || pl.Trigger != trigger || pl.Stage == truce.StageWithdrawn {
			continue
		}
		id := ActivationID(pl.ID, at)
		if _, done := b.acts[id]; done {
			continue
		}
		out = append(out, truce.Activation{ID: id, Pledge: pl.ID, Nation: pl.Nation, Trigger: trigger, At: at.UTC(), Due: at.Add(b.ackWithin).UTC()})
	}
	b.mu.RUnlock()
	return b.commitActivations(out, commit)
}

// commitActivations journals activations (in id order) with commit, then
// applies them; the caller holds b.decide.
func (b *Book) commitActivations(out []truce.Activation, commit func([]truce.Activation) error) ([]truce.Activation, error) {
	if len(out) == 0 {
		return nil, nil
	}
	slices.SortFunc(out, func(x, y truce.Activation) int { return strings.Compare(x.ID, y.ID) })
	if err := commit(out); err != nil {
		return nil, err
	}
	for _, a := range out {
		b.ApplyActivation(a)
	}
	return out, nil
}

// Acknowledge records that nation by acknowledged activation id at at.
// Acknowledging again changes nothing.
func (b *Book) Acknowledge(id string, by truce.OrgID, at time.Time, commit func(truce.Activation) error) (truce.Activation, error) {
	b.decide.Lock()
	defer b.decide.Unlock()
	b.mu.RLock()
	cur, ok := b.acts[id]
	var a truce.Activation
	if ok {
		a = *cur
	}
	b.mu.RUnlock()
	switch {
	case !ok:
		return truce.Activation{}, fmt.Errorf("activation %s: %w", id, truce.ErrNotFound)
	case a.Nation != by:
		return truce.Activation{}, fmt.Errorf("activation %s is %s's to acknowledge, not %s's: %w", id, a.Nation, by, truce.ErrConflict)
	case a.Acknowledged():
		return a, nil
	}
	a.AckAt, a.AckBy = at.UTC(), by
	if err := commit(a); err != nil {
		return truce.Activation{}, err
	}
	b.ApplyActivation(a)
	return a, nil
}

// MarkOverdue records as overdue, at now, every activation that fell due
// unacknowledged and is not yet so recorded; commit journals them first.
func (b *Book) MarkOverdue(now time.Time, commit func([]truce.Activation) error) ([]truce.Activation, error) {
	b.decide.Lock()
	defer b.decide.Unlock()
	b.mu.RLock()
	var out []truce.Activation
	for _, a := range b.acts {
		if a.Overdue(now) && a.OverdueAt.IsZero() {
			c := *a
			c.OverdueAt = c.Due
			out = append(out, c)
		}
	}
	b.mu.RUnlock()
	return b.commitActivations(out, commit)
}

// Apply records the journaled records given (nil ones are skipped), as
// copies in the journal's held precision: how a Book is rebuilt, and caught
// up, from journal entries (whose bodies are valid only during a read).
func (b *Book) Apply(p *truce.Pledge, r *truce.Requirement, a *truce.Activation, s *truce.Support) {
	if p != nil {
		b.ApplyPledge(p.Canonical())
	}
	if r != nil {
		b.ApplyRequirement(r.Canonical())
	}
	if a != nil {
		b.ApplyActivation(a.Canonical())
	}
	if s != nil {
		b.ApplySupport(s.Canonical())
	}
}

// ApplyPledge records pl as journaled, replacing an earlier version (never
// a later one: replaying the journal over a Book that is ahead of the
// replay changes nothing).
func (b *Book) ApplyPledge(pl truce.Pledge) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if cur := b.pledges[pl.ID]; cur == nil || cur.Version <= pl.Version {
		b.pledges[pl.ID] = &pl
	}
}

// ApplyRequirement records r as journaled, replacing an earlier version.
func (b *Book) ApplyRequirement(r truce.Requirement) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if cur := b.reqs[r.ID]; cur == nil || cur.Version <= r.Version {
		b.reqs[r.ID] = &r
	}
}

// ApplyActivation records a as journaled; an acknowledgement, or its
// being recorded overdue, is never undone.
func (b *Book) ApplyActivation(a truce.Activation) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.acts[a.ID]
	switch {
	case cur == nil:
	case cur.Acknowledged() && !a.Acknowledged():
		return // an acknowledgement is never undone
	case a.OverdueAt.IsZero() && !cur.OverdueAt.IsZero():
		a.OverdueAt = cur.OverdueAt // nor is a recorded lateness
	}
	b.acts[a.ID] = &a
}

// ApplySupport records s as journaled.
func (b *Book) ApplySupport(s truce.Support) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.support[s.ID] = &s
}

// Pledge returns pledge id.
func (b *Book) Pledge(id string) (truce.Pledge, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	pl, ok := b.pledges[id]
	if !ok {
		return truce.Pledge{}, false
	}
	return *pl, true
}

// Pledges returns every pledge for which keep is true (nil: all), by id.
func (b *Book) Pledges(keep func(*truce.Pledge) bool) []truce.Pledge {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return sortedValues(b.pledges, keep, func(p *truce.Pledge) string { return p.ID })
}

// Requirements returns every requirement for which keep is true, by id.
func (b *Book) Requirements(keep func(*truce.Requirement) bool) []truce.Requirement {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return sortedValues(b.reqs, keep, func(r *truce.Requirement) string { return r.ID })
}

// Activations returns every activation for which keep is true, by id.
func (b *Book) Activations(keep func(*truce.Activation) bool) []truce.Activation {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return sortedValues(b.acts, keep, func(a *truce.Activation) string { return a.ID })
}

// Support returns every support record for which keep is true, by id.
func (b *Book) Support(keep func(*truce.Support) bool) []truce.Support {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return sortedValues(b.support, keep, func(s *truce.Support) string { return s.ID })
}

func sortedValues[T any](m map[string]*T, keep func(*T) bool, id func(*T) string) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		if keep == nil || keep(v) {
			out = append(out, *v)
		}
	}
	slices.SortFunc(out, func(a, b T) int { return cmp.Compare(id(&a), id(&b)) })
	return out
}
