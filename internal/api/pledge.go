package api

import (
	"strconv"
	"time"

	"github.com/truce-dev/truce/internal/pledge"
	"github.com/truce-dev/truce/internal/truce"
)

// StageChange is one step of a pledge.
type StageChange struct {
	Stage     string `json:"stage"`
	Date      string `json:"date"` // YYYY-MM-DD or RFC 3339
	By        string `json:"by,omitempty"`
	Reference string `json:"reference,omitempty"`
}

// PledgeCaveat is the wire form of truce.PledgeCaveat.
type PledgeCaveat struct {
	Text    string   `json:"text,omitempty"`
	Domains []string `json:"domains,omitempty"`
	Within  string   `json:"within,omitempty"`
}

// PledgeRequest is the body of POST /api/v1/pledges: a new pledge at the
// stage of Change.
type PledgeRequest struct {
	ID          string        `json:"id"`
	Nation      string        `json:"nation"`
	Capability  string        `json:"capability"`
	Quantity    float64       `json:"quantity"`
	Unit        string        `json:"unit"`
	Requirement string        `json:"requirement,omitempty"`
	Approval    string        `json:"approval,omitempty"`
	Caveat      *PledgeCaveat `json:"caveat,omitempty"`
	Contingent  bool          `json:"contingent,omitempty"`
	Trigger     string        `json:"trigger,omitempty"`
	Marking     *Marking      `json:"marking,omitempty"`
	Note        string        `json:"note,omitempty"`
	Change      StageChange   `json:"change"`
}

// StageRequest is the body of POST /api/v1/pledges/{id}/stage.
type StageRequest struct {
	StageChange
	Version  *int    `json:"version"`
	Quantity float64 `json:"quantity,omitempty"` // a new quantity, when it changed
}

// Pledge is the wire form of a pledge.
type Pledge struct {
	ID          string        `json:"id"`
	Nation      string        `json:"nation"`
	Capability  string        `json:"capability"`
	Quantity    float64       `json:"quantity"`
	Unit        string        `json:"unit"`
	Requirement string        `json:"requirement,omitempty"`
	Stage       string        `json:"stage"`
	History     []StageChange `json:"history"`
	Approval    string        `json:"approval,omitempty"`
	Caveat      *PledgeCaveat `json:"caveat,omitempty"`
	Contingent  bool          `json:"contingent"`
	Trigger     string        `json:"trigger,omitempty"`
	Marking     *Marking      `json:"marking"`
	Note        string        `json:"note,omitempty"`
	Version     int           `json:"version"`
}

// ParseDate reads a date as YYYY-MM-DD (midnight UTC) or RFC 3339.
func ParseDate(s string) (time.Time, bool) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t.UTC(), err == nil
}

// date reads a date given in field, noting the problem if it is none.
func (p *problems) date(field, s string) time.Time {
	d, ok := ParseDate(s)
	if !ok {
		p.add(field, "must be a date such as 2026-09-04 or an RFC 3339 time, not %q", s)
	}
	return d
}

// ToChange converts a stage change of record rec; problems name its
// fields after prefix (such as "change.").
func (c *StageChange) ToChange(rec, prefix string) (truce.StageChange, error) {
	p := problems{rec: rec}
	d := p.date(prefix+"date", c.Date)
	return truce.StageChange{Stage: truce.PledgeStage(c.Stage), Date: d, By: c.By, Reference: c.Reference}, p.probs.Err()
}

// ToPledge converts a request, rounded to the held precision; the pledge's
// stage and history come from the change (pledge.Book.AddPledge).
func (r *PledgeRequest) ToPledge() (truce.Pledge, truce.StageChange, error) {
	pl := truce.Pledge{ID: r.ID, Nation: truce.NationID(r.Nation), Capability: truce.Capability(r.Capability), Quantity: r.Quantity, Unit: r.Unit,
		Requirement: r.Requirement, Approval: r.Approval, Contingent: r.Contingent, Trigger: r.Trigger, Note: r.Note,
		Marking: truce.Marking{TLP: truce.TLPAmber}}
	if r.Contingent && pl.Trigger == "" {
		pl.Trigger = truce.RenewedAggression
	}
	if c := r.Caveat; c != nil {
		pl.Caveat = truce.PledgeCaveat{Text: c.Text, Within: c.Within}
		for _, d := range c.Domains {
			pl.Caveat.Domains = append(pl.Caveat.Domains, truce.Domain(d))
		}
	}
	mk, err := markingOr(r.Marking, truce.TLPAmber)
	if err != nil {
		return truce.Pledge{}, truce.StageChange{}, err
	}
	pl.Marking = mk
	c, err := r.Change.ToChange("pledge "+r.ID, "change.")
	return pl.Canonical(), c, err
}

func changesOf(h []truce.StageChange) []StageChange {
	out := make([]StageChange, len(h))
	for i, c := range h {
		out[i] = StageChange{Stage: string(c.Stage), Date: timeOf(c.Date), By: c.By, Reference: c.Reference}
	}
	return out
}

// FromPledge returns the wire form of p.
func FromPledge(p *truce.Pledge) Pledge {
	out := Pledge{ID: p.ID, Nation: string(p.Nation), Capability: string(p.Capability), Quantity: p.Quantity, Unit: p.Unit, Requirement: p.Requirement,
		Stage: string(p.Stage), History: changesOf(p.History), Approval: p.Approval, Contingent: p.Contingent, Trigger: p.Trigger,
		Marking: FromMarking(p.Marking), Note: p.Note, Version: p.Version}
	if c := p.Caveat; c.Text != "" || len(c.Domains) > 0 || c.Within != "" {
		out.Caveat = &PledgeCaveat{Text: c.Text, Within: c.Within}
		for _, d := range c.Domains {
			out.Caveat.Domains = append(out.Caveat.Domains, string(d))
		}
	}
	return out
}

// Requirement is the wire form of a requirement, and the body of POST and
// PUT /api/v1/requirements (Version: the version a PUT replaces).
type Requirement struct {
	ID         string   `json:"id"`
	Capability string   `json:"capability"`
	Quantity   float64  `json:"quantity"`
	Unit       string   `json:"unit"`
	Domain     string   `json:"domain,omitempty"`
	Where      string   `json:"where,omitempty"`
	From       string   `json:"from,omitempty"`
	Note       string   `json:"note,omitempty"`
	Marking    *Marking `json:"marking,omitempty"`
	Version    int      `json:"version"`
}

// ToRequirement converts a request.
func (r *Requirement) ToRequirement() (truce.Requirement, error) {
	p := problems{rec: "requirement " + r.ID}
	out := truce.Requirement{ID: r.ID, Capability: truce.Capability(r.Capability), Quantity: r.Quantity, Unit: r.Unit, Domain: truce.Domain(r.Domain),
		Where: r.Where, Note: r.Note, Marking: truce.Marking{TLP: truce.TLPAmber}}
	if r.From != "" {
		out.From = p.date("from", r.From)
	}
	mk, err := markingOr(r.Marking, truce.TLPAmber)
	if err != nil {
		return out, err
	}
	out.Marking = mk
	return out.Canonical(), p.probs.Err()
}

// markingOr checks a record's optional marking; without one, the record
// takes def.
func markingOr(m *Marking, def truce.TLP) (truce.Marking, error) {
	if m == nil {
		return truce.Marking{TLP: def}, nil
	}
	return m.ToMarking("marking")
}

// FromRequirement returns the wire form of r.
func FromRequirement(r *truce.Requirement) Requirement {
	out := Requirement{ID: r.ID, Capability: string(r.Capability), Quantity: r.Quantity, Unit: r.Unit, Domain: string(r.Domain), Where: r.Where,
		Note: r.Note, Marking: FromMarking(r.Marking), Version: r.Version}
	if !r.From.IsZero() {
		out.From = timeOf(r.From)
	}
	return out
}

// Activation is the wire form of an activation.
type Activation struct {
	ID             string `json:"id"`
	Pledge         string `json:"pledge"`
	Nation         string `json:"nation"`
	Trigger        string `json:"trigger"`
	At             string `json:"at"`
	Due            string `json:"due"`
	Acknowledged   bool   `json:"acknowledged"`
	AcknowledgedAt string `json:"acknowledged_at,omitempty"`
	// Overdue reports whether it is unacknowledged past its due time now;
	// OverdueAt is set once that was recorded (journaled).
	Overdue   bool   `json:"overdue"`
	OverdueAt string `json:"overdue_at,omitempty"`
}

// FromActivation returns the wire form of a at now.
func FromActivation(a *truce.Activation, now time.Time) Activation {
	out := Activation{ID: a.ID, Pledge: a.Pledge, Nation: string(a.Nation), Trigger: a.Trigger, At: timeOf(a.At), Due: timeOf(a.Due),
		Acknowledged: a.Acknowledged(), Overdue: a.Overdue(now)}
	if a.Acknowledged() {
		out.AcknowledgedAt = timeOf(a.AckAt)
	}
	if !a.OverdueAt.IsZero() {
		out.OverdueAt = timeOf(a.OverdueAt)
	}
	return out
}

// Support is the wire form of a support record, and the body of POST
// /api/v1/support.
type Support struct {
	ID           string   `json:"id"`
	Donor        string   `json:"donor"`
	Type         string   `json:"type"`
	Item         string   `json:"item"`
	ValueEUR     float64  `json:"value_eur"`
	Announced    string   `json:"announced"`
	Stage        string   `json:"stage"`
	DeliveredEUR float64  `json:"delivered_eur"`
	Source       string   `json:"source,omitempty"`
	Marking      *Marking `json:"marking,omitempty"`
}

// ToSupport converts a request.
func (s *Support) ToSupport() (truce.Support, error) {
	p := problems{rec: "support " + s.ID}
	out := truce.Support{ID: s.ID, Donor: truce.NationID(s.Donor), Type: truce.SupportType(s.Type), Item: s.Item, ValueEUR: s.ValueEUR,
		Stage: truce.SupportStage(s.Stage), DeliveredEUR: s.DeliveredEUR, Source: s.Source, Marking: truce.Marking{TLP: truce.TLPClear}}
	out.Announced = p.date("announced", s.Announced)
	mk, err := markingOr(s.Marking, truce.TLPClear)
	if err != nil {
		return out, err
	}
	out.Marking = mk
	return out.Canonical(), p.probs.Err()
}

// FromSupport returns the wire form of s.
func FromSupport(s *truce.Support) Support {
	return Support{ID: s.ID, Donor: string(s.Donor), Type: string(s.Type), Item: s.Item, ValueEUR: s.ValueEUR, Announced: s.Announced.Format(time.DateOnly),
		Stage: string(s.Stage), DeliveredEUR: s.DeliveredEUR, Source: s.Source, Marking: FromMarking(s.Marking)}
}

// Share is one pledge's part in a requirement.
type Share struct {
	Pledge     string  `json:"pledge"`
	Nation     string  `json:"nation"`
	Quantity   float64 `json:"quantity"`
	Stage      string  `json:"stage"`
	Contingent bool    `json:"contingent"`
	Counts     bool    `json:"counts"`
	Excluded   string  `json:"excluded,omitempty"`
}

// Gap is a requirement and what is pledged towards it.
type Gap struct {
	Requirement Requirement        `json:"requirement"`
	ByStage     map[string]float64 `json:"by_stage"`
	Counted     float64            `json:"counted"`
	Missing     float64            `json:"missing"`
	Contingent  float64            `json:"contingent"`
	Shares      []Share            `json:"shares"`
}

// NationPledges is a nation's pledges by stage.
type NationPledges struct {
	Nation     string         `json:"nation"`
	Pledges    map[string]int `json:"pledges"`
	Contingent int            `json:"contingent"`
	Caveats    []string       `json:"caveats,omitempty"`
}

// Gaps is the answer to GET /api/v1/gaps.
type Gaps struct {
	Stage            string          `json:"stage"`
	Without          []string        `json:"without,omitempty"`
	CaveatsHold      bool            `json:"caveats_hold"`
	CaveatsOf        []string        `json:"caveats_of,omitempty"`
	Requirements     []Gap           `json:"requirements"`
	Nations          []NationPledges `json:"nations"`
	AwaitingApproval []Pledge        `json:"awaiting_approval"`
	Unassigned       []Pledge        `json:"unassigned"`
}

// FromGaps returns the wire form of g.
func FromGaps(g pledge.Gaps) Gaps {
	out := Gaps{Stage: string(g.Query.Stage), CaveatsHold: g.Query.CaveatsHold, Requirements: []Gap{}, Nations: []NationPledges{},
		AwaitingApproval: []Pledge{}, Unassigned: []Pledge{}}
	for _, n := range g.Query.Without {
		out.Without = append(out.Without, string(n))
	}
	for _, n := range g.Query.CaveatsOf {
		out.CaveatsOf = append(out.CaveatsOf, string(n))
	}
	for _, x := range g.Requirements {
		wg := Gap{Requirement: FromRequirement(&x.Requirement), ByStage: map[string]float64{}, Counted: x.Counted, Missing: x.Missing, Contingent: x.Contingent, Shares: []Share{}}
		for st, q := range x.ByStage {
			wg.ByStage[string(st)] = q
		}
		for _, s := range x.Shares {
			wg.Shares = append(wg.Shares, Share{Pledge: s.Pledge, Nation: string(s.Nation), Quantity: s.Quantity, Stage: string(s.Stage),
				Contingent: s.Contingent, Counts: s.Counts, Excluded: s.Excluded})
		}
		out.Requirements = append(out.Requirements, wg)
	}
	for _, n := range g.Nations {
		wn := NationPledges{Nation: string(n.Nation), Pledges: map[string]int{}, Contingent: n.Contingent, Caveats: n.Caveats}
		for st, c := range n.Pledges {
			wn.Pledges[string(st)] = c
		}
		out.Nations = append(out.Nations, wn)
	}
	for i := range g.AwaitingApproval {
		out.AwaitingApproval = append(out.AwaitingApproval, FromPledge(&g.AwaitingApproval[i]))
	}
	for i := range g.Unassigned {
		out.Unassigned = append(out.Unassigned, FromPledge(&g.Unassigned[i]))
	}
	return out
}

// Totals is the wire form of pledge.Totals.
type Totals struct {
	Records      int     `json:"records"`
	ValueEUR     float64 `json:"value_eur"`
	AllocatedEUR float64 `json:"allocated_eur"`
	DeliveredEUR float64 `json:"delivered_eur"`
}

// SupportTotals sums support by donor, type and year.
type SupportTotals struct {
	All     Totals            `json:"all"`
	ByDonor map[string]Totals `json:"by_donor"`
	ByType  map[string]Totals `json:"by_type"`
	ByYear  map[string]Totals `json:"by_year"`
}

func totalsOf(t pledge.Totals) Totals {
	return Totals{Records: t.Records, ValueEUR: truce.Round(t.ValueEUR, truce.EuroUnit), AllocatedEUR: truce.Round(t.AllocatedEUR, truce.EuroUnit),
		DeliveredEUR: truce.Round(t.DeliveredEUR, truce.EuroUnit)}
}

// FromSupportTotals returns the wire form of t.
func FromSupportTotals(t pledge.SupportTotals) SupportTotals {
	out := SupportTotals{All: totalsOf(t.All), ByDonor: map[string]Totals{}, ByType: map[string]Totals{}, ByYear: map[string]Totals{}}
	for k, v := range t.ByDonor {
		out.ByDonor[string(k)] = totalsOf(v)
	}
	for k, v := range t.ByType {
		out.ByType[string(k)] = totalsOf(v)
	}
	for k, v := range t.ByYear {
		out.ByYear[strconv.Itoa(k)] = totalsOf(v)
	}
	return out
}
