package truce

import (
	"slices"
	"time"
)

// Capability is what a pledge offers or a requirement asks for.
type Capability string

// Capabilities.
const (
	CapLandForce   Capability = "land_force"
	CapAirPolicing Capability = "air_policing"
	CapMaritime    Capability = "maritime"
	CapISR         Capability = "isr"
	CapIntel       Capability = "intelligence"
	CapAirDefence  Capability = "air_defence"
	CapWeapons     Capability = "weapons"
	CapTraining    Capability = "training"
	CapLogistics   Capability = "logistics"
	CapFunding     Capability = "funding"
	CapTechnology  Capability = "technology"
)

var capabilities = vocabulary[Capability]{"capability", []Term{
	{string(CapLandForce), "ground forces: battalions, companies, enablers"},
	{string(CapAirPolicing), "aircraft policing the airspace"},
	{string(CapMaritime), "naval forces: vessels, mine countermeasures"},
	{string(CapISR), "intelligence, surveillance and reconnaissance platforms"},
	{string(CapIntel), "intelligence sharing and analysis"},
	{string(CapAirDefence), "ground-based air defence"},
	{string(CapWeapons), "weapons and ammunition delivered"},
	{string(CapTraining), "training of the armed forces"},
	{string(CapLogistics), "transport, supply, maintenance"},
	{string(CapFunding), "money"},
	{string(CapTechnology), "technology and industrial cooperation"},
}}

// Capabilities lists every capability with its meaning.
func Capabilities() []Term { return slices.Clone(capabilities.terms) }

// ParseCapability returns the capability named s.
func ParseCapability(s string) (Capability, error) { return capabilities.parse(s) }

// Valid reports whether c is a known capability.
func (c Capability) Valid() bool { return capabilities.valid(c) }

// PledgeStage is how far a pledge has come. Stages go forward only:
// proposed, announced, approved (by the body that must approve it, such as
// a parliament), ready, then deployed (forces) or delivered (materiel,
// money). A pledge may be withdrawn at any stage before the last.
type PledgeStage string

// Pledge stages.
const (
	StageProposed  PledgeStage = "proposed"
	StageAnnounced PledgeStage = "announced"
	StageApproved  PledgeStage = "approved"
	StageReady     PledgeStage = "ready"
	StageDeployed  PledgeStage = "deployed"
	StageDelivered PledgeStage = "delivered"
	StageWithdrawn PledgeStage = "withdrawn"
)

var pledgeStages = vocabulary[PledgeStage]{"pledge stage", []Term{
	{string(StageProposed), "offered in talks, not yet public"},
	{string(StageAnnounced), "announced by the government"},
	{string(StageApproved), "approved by the body that must approve it (a parliamentary vote)"},
	{string(StageReady), "forces or materiel ready to go"},
	{string(StageDeployed), "forces deployed"},
	{string(StageDelivered), "materiel or money delivered"},
	{string(StageWithdrawn), "withdrawn; counts for nothing"},
}}

// PledgeStages lists every stage with its meaning, in order.
func PledgeStages() []Term { return slices.Clone(pledgeStages.terms) }

// ParsePledgeStage returns the stage named s.
func ParsePledgeStage(s string) (PledgeStage, error) { return pledgeStages.parse(s) }

// Valid reports whether s is a known stage.
func (s PledgeStage) Valid() bool { return pledgeStages.valid(s) }

// Rank orders the stages a pledge moves through: 0 for proposed up to 4
// for deployed or delivered; -1 for withdrawn or unknown.
func (s PledgeStage) Rank() int {
	switch s {
	case StageProposed:
		return 0
	case StageAnnounced:
		return 1
	case StageApproved:
		return 2
	case StageReady:
		return 3
	case StageDeployed, StageDelivered:
		return 4
	}
	return -1
}

// AtLeast reports whether a pledge at stage s counts at stage min: it has
// reached min or gone past it (and is not withdrawn).
func (s PledgeStage) AtLeast(min PledgeStage) bool {
	return s.Rank() >= 0 && s.Rank() >= min.Rank()
}

// StageChange is one step of a pledge: the stage reached, when, who or what
// body took it, and its reference (a parliamentary vote, a decree).
type StageChange struct {
	Stage     PledgeStage
	Date      time.Time
	By        string
	Reference string
}

// PledgeCaveat limits what a pledge may be used for: free text, and the
// structured limits deconfliction shares (domains; a named region the
// forces stay within, such as "adjacent_territory").
type PledgeCaveat struct {
	Text    string
	Domains []Domain
	Within  string
}

// RenewedAggression names the agreement's renewed-aggression trigger, the
// one contingent pledges answer unless they name another.
const RenewedAggression = "renewed_aggression"

// Pledge is a nation's commitment.
type Pledge struct {
	ID         string
	Nation     NationID
	Capability Capability
	Quantity   float64
	Unit       string // "battalion", "aircraft", "EUR", ...
	// Requirement, when set, is the requirement the pledge answers.
	Requirement string
	// Stage is the last of History.
	Stage   PledgeStage
	History []StageChange
	// Approval names the body whose approval the pledge awaits or had
	// (a parliament), "" when none is needed.
	Approval   string
	Caveat     PledgeCaveat
	Contingent bool
	Trigger    string // contingent pledges: the trigger they answer
	Marking    Marking
	Note       string
	Version    int
}

// Requirement is a nation-agnostic capability need, as in a force
// generation statement of requirements.
type Requirement struct {
	ID         string
	Capability Capability
	Quantity   float64
	Unit       string
	Domain     Domain // "" when the capability has none
	Where      string // a named region, such as "ukraine" or "black_sea"
	From       time.Time
	Note       string
	Marking    Marking
	Version    int
}

// Activation is a contingent pledge called on by its trigger: its nation
// must acknowledge it by Due.
type Activation struct {
	ID      string
	Pledge  string
	Nation  NationID
	Trigger string
	At      time.Time // when the trigger fired
	Due     time.Time
	// AckAt and AckBy are set once the nation acknowledged it.
	AckAt time.Time
	AckBy OrgID
	// OverdueAt is set (to Due) once the activation was recorded as
	// overdue: unacknowledged when it fell due.
	OverdueAt time.Time
}

// Acknowledged reports whether the nation acknowledged a.
func (a *Activation) Acknowledged() bool { return !a.AckAt.IsZero() }

// Overdue reports whether a is unacknowledged past its due time at now.
func (a *Activation) Overdue(now time.Time) bool { return !a.Acknowledged() && now.After(a.Due) }

// SupportType is the kind of a support record, as the Kiel Institute's
// Ukraine Support Tracker classifies aid.
type SupportType string

// Support types.
const (
	SupportMilitary     SupportType = "military"
	SupportFinancial    SupportType = "financial"
	SupportHumanitarian SupportType = "humanitarian"
)

var supportTypes = vocabulary[SupportType]{"support type", []Term{
	{string(SupportMilitary), "weapons, equipment, military services"},
	{string(SupportFinancial), "grants, loans, guarantees"},
	{string(SupportHumanitarian), "humanitarian aid"},
}}

// ParseSupportType returns the support type named s.
func ParseSupportType(s string) (SupportType, error) { return supportTypes.parse(s) }

// Valid reports whether t is a known support type.
func (t SupportType) Valid() bool { return supportTypes.valid(t) }

// SupportStage is how far a support record has come: allocated (delivered
// or specified for delivery) or committed (promised).
type SupportStage string

// Support stages.
const (
	SupportCommitted SupportStage = "committed"
	SupportAllocated SupportStage = "allocated"
)

var supportStages = vocabulary[SupportStage]{"support stage", []Term{
	{string(SupportCommitted), "promised by the donor"},
	{string(SupportAllocated), "delivered or specified for delivery"},
}}

// ParseSupportStage returns the support stage named s.
func ParseSupportStage(s string) (SupportStage, error) { return supportStages.parse(s) }

// Valid reports whether s is a known support stage.
func (s SupportStage) Valid() bool { return supportStages.valid(s) }

// Support is one record of long-term support: a donor's aid item, its
// value in euros, when it was announced, its stage and what of it was
// delivered.
type Support struct {
	ID           string
	Donor        NationID
	Type         SupportType
	Item         string
	ValueEUR     float64
	Announced    time.Time
	Stage        SupportStage
	DeliveredEUR float64
	Source       string // where the figure comes from
	Marking      Marking
}

// The held precision of pledged quantities and of euro values.
const (
	QuantityUnit = 1e-3
	EuroUnit     = 1e-2
)

func roundTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Round(TimeUnit)
}

// Canonical returns p rounded to the held precision, as the journal holds
// it.
func (p Pledge) Canonical() Pledge {
	p.Quantity = Round(p.Quantity, QuantityUnit)
	h := make([]StageChange, len(p.History))
	for i, c := range p.History {
		c.Date = roundTime(c.Date)
		h[i] = c
	}
	p.History = h
	p.Caveat.Domains = slices.Clone(p.Caveat.Domains)
	p.Marking.RelTo = slices.Clone(p.Marking.RelTo)
	return p
}

// Canonical returns r rounded to the held precision.
func (r Requirement) Canonical() Requirement {
	r.Quantity = Round(r.Quantity, QuantityUnit)
	r.From = roundTime(r.From)
	r.Marking.RelTo = slices.Clone(r.Marking.RelTo)
	return r
}

// Canonical returns a rounded to the held precision.
func (a Activation) Canonical() Activation {
	a.At, a.Due, a.AckAt, a.OverdueAt = roundTime(a.At), roundTime(a.Due), roundTime(a.AckAt), roundTime(a.OverdueAt)
	return a
}

// Canonical returns s rounded to the held precision.
func (s Support) Canonical() Support {
	s.ValueEUR, s.DeliveredEUR = Round(s.ValueEUR, EuroUnit), Round(s.DeliveredEUR, EuroUnit)
	s.Announced = roundTime(s.Announced)
	s.Marking.RelTo = slices.Clone(s.Marking.RelTo)
	return s
}
