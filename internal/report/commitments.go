package report

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/truce-dev/truce/internal/pledge"
	"github.com/truce-dev/truce/internal/truce"
)

// Commitments is what the coalition's nations have promised, as the caller
// computed it from the journal: the gaps at a stage (approved in the daily
// report), the activations of contingent pledges and the totals of
// long-term support.
type Commitments struct {
	Gaps pledge.Gaps
	// Activations are those of the report's day; Build leaves out any
	// whose trigger fired outside the day (before Date, or at or after the
	// day's end or the cut-off, whichever is earlier).
	Activations []truce.Activation
	Support     pledge.SupportTotals
}

// CommitmentsSection is the report's commitments section.
type CommitmentsSection struct {
	// Stage is the stage the gaps count pledges at (or past).
	Stage truce.PledgeStage `json:"stage"`
	// Pledges counts the pledges not withdrawn; Nations the nations that
	// made them.
	Pledges      int              `json:"pledges"`
	Nations      int              `json:"nations"`
	Requirements []RequirementGap `json:"requirements"`
	// AwaitingApproval lists the pledges that need a body's approval and
	// have not had it yet.
	AwaitingApproval []PendingPledge `json:"awaiting_approval"`
	// Activations are the day's activations of contingent pledges, by the
	// time their trigger fired.
	Activations []ActivationRow `json:"activations"`
	Support     SupportSection  `json:"support"`
}

// RequirementGap is a requirement and what is pledged towards it.
type RequirementGap struct {
	ID         string           `json:"id"`
	Capability truce.Capability `json:"capability"`
	Needed     float64          `json:"needed"`
	// Pledged is what counts at the section's stage; Missing the rest of
	// the requirement (0 when covered); Contingent what contingent pledges
	// not yet acknowledged would add.
	Pledged    float64 `json:"pledged"`
	Missing    float64 `json:"missing"`
	Contingent float64 `json:"contingent"`
	Unit       string  `json:"unit"`
}

// PendingPledge is a pledge awaiting a body's approval.
type PendingPledge struct {
	Pledge     string            `json:"pledge"`
	Nation     truce.NationID    `json:"nation"`
	Quantity   float64           `json:"quantity"`
	Unit       string            `json:"unit"`
	Capability truce.Capability  `json:"capability"`
	Stage      truce.PledgeStage `json:"stage"`
	Body       string            `json:"body"`
}

// ActivationRow is a contingent pledge called on by its trigger, as of the
// report's cut-off.
type ActivationRow struct {
	ID      string         `json:"id"`
	Pledge  string         `json:"pledge"`
	Nation  truce.NationID `json:"nation"`
	Trigger string         `json:"trigger"`
	At      time.Time      `json:"at"` // when the trigger fired
	AtDTG   string         `json:"at_dtg"`
	Due     time.Time      `json:"due"`
	DueDTG  string         `json:"due_dtg"`
	// Acknowledged says whether the nation acknowledged the activation by
	// the cut-off; Overdue whether it had not and the cut-off is past due.
	Acknowledged bool `json:"acknowledged"`
	Overdue      bool `json:"overdue"`
}

// SupportSection sums the records of long-term support.
type SupportSection struct {
	All SupportTotal `json:"all"`
	// ByType holds a total per support type, by type.
	ByType []SupportTotal `json:"by_type"`
}

// SupportTotal sums support records: the value of them all, of those
// allocated, and what was delivered.
type SupportTotal struct {
	Type         truce.SupportType `json:"type,omitempty"`
	Records      int               `json:"records"`
	ValueEUR     float64           `json:"value_eur"`
	AllocatedEUR float64           `json:"allocated_eur"`
	DeliveredEUR float64           `json:"delivered_eur"`
}

func supportTotal(t truce.SupportType, x pledge.Totals) SupportTotal {
	return SupportTotal{Type: t, Records: x.Records, ValueEUR: x.ValueEUR, AllocatedEUR: x.AllocatedEUR, DeliveredEUR: x.DeliveredEUR}
}

// commitments makes the section of c for the day [day, end), as of cutoff.
func commitments(c *Commitments, day, end, cutoff time.Time) *CommitmentsSection {
	g := &c.Gaps
	s := &CommitmentsSection{Stage: cmp.Or(g.Query.Stage, truce.StageApproved), Nations: len(g.Nations),
		Requirements: []RequirementGap{}, AwaitingApproval: []PendingPledge{}, Activations: []ActivationRow{}, Support: SupportSection{ByType: []SupportTotal{}}}
	for _, n := range g.Nations {
		for _, k := range n.Pledges {
			s.Pledges += k
		}
	}
	for _, x := range g.Requirements {
		r := &x.Requirement
		s.Requirements = append(s.Requirements, RequirementGap{ID: r.ID, Capability: r.Capability, Needed: r.Quantity,
			Pledged: x.Counted, Missing: x.Missing, Contingent: x.Contingent, Unit: r.Unit})
	}
	slices.SortFunc(s.Requirements, func(x, y RequirementGap) int { return cmp.Compare(x.ID, y.ID) })
	for _, p := range g.AwaitingApproval {
		s.AwaitingApproval = append(s.AwaitingApproval, PendingPledge{Pledge: p.ID, Nation: p.Nation, Quantity: p.Quantity, Unit: p.Unit,
			Capability: p.Capability, Stage: p.Stage, Body: p.Approval})
	}
	slices.SortFunc(s.AwaitingApproval, func(x, y PendingPledge) int { return cmp.Compare(x.Pledge, y.Pledge) })
	for _, a := range c.Activations {
		if a.At.Before(day) || !a.At.Before(end) {
			continue
		}
		acked := a.Acknowledged() && !a.AckAt.After(cutoff)
		s.Activations = append(s.Activations, ActivationRow{ID: a.ID, Pledge: a.Pledge, Nation: a.Nation, Trigger: a.Trigger,
			At: a.At.UTC(), AtDTG: DTG(a.At), Due: a.Due.UTC(), DueDTG: DTG(a.Due), Acknowledged: acked, Overdue: !acked && cutoff.After(a.Due)})
	}
	slices.SortFunc(s.Activations, func(x, y ActivationRow) int {
		return cmp.Or(x.At.Compare(y.At), cmp.Compare(x.Nation, y.Nation), cmp.Compare(x.ID, y.ID))
	})
	s.Support.All = supportTotal("", c.Support.All)
	for t, x := range c.Support.ByType {
		s.Support.ByType = append(s.Support.ByType, supportTotal(t, x))
	}
	slices.SortFunc(s.Support.ByType, func(x, y SupportTotal) int { return cmp.Compare(x.Type, y.Type) })
	return s
}

// Covered reports whether nothing is missing of the requirement.
func (g RequirementGap) Covered() bool { return g.Missing <= 0 }

// Status says where an activation stands: acknowledged, overdue or
// awaiting acknowledgement.
func (a ActivationRow) Status() string {
	switch {
	case a.Acknowledged:
		return "acknowledged"
	case a.Overdue:
		return "overdue"
	}
	return "awaiting acknowledgement"
}

// Quantity formats a pledged quantity or an amount: thousands separated by
// commas, with the decimals it needs (at most three).
func Quantity(x float64) string {
	s := strconv.FormatFloat(math.Round(x*1e3)/1e3+0, 'f', -1, 64) // +0: no "-0"
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// markdown writes the section as Markdown.
func (c *CommitmentsSection) markdown(w io.Writer) {
	fmt.Fprintf(w, "## Commitments\n\n%s from %s. Gaps at stage %s: what counts is the standing pledges at that stage or past it, and contingent pledges once their activation is acknowledged.\n\n",
		plural(c.Pledges, "pledge"), plural(c.Nations, "nation"), c.Stage)
	if len(c.Requirements) == 0 {
		fmt.Fprintf(w, "No requirements.\n\n")
	} else {
		var rows [][]string
		for _, g := range c.Requirements {
			rows = append(rows, []string{g.ID, string(g.Capability), Quantity(g.Needed), Quantity(g.Pledged), Quantity(g.Missing), Quantity(g.Contingent), g.Unit})
		}
		table(w, []string{"Requirement", "Capability", "Needed", "Pledged", "Missing", "Contingent", "Unit"}, rows)
	}
	fmt.Fprintf(w, "### Awaiting approval\n\n")
	if len(c.AwaitingApproval) == 0 {
		fmt.Fprintf(w, "None.\n\n")
	} else {
		var rows [][]string
		for _, p := range c.AwaitingApproval {
			rows = append(rows, []string{p.Pledge, string(p.Nation), Quantity(p.Quantity), p.Unit, string(p.Capability), string(p.Stage), p.Body})
		}
		table(w, []string{"Pledge", "Nation", "Quantity", "Unit", "Capability", "Stage", "Body"}, rows)
	}
	fmt.Fprintf(w, "### Contingent pledges activated\n\n")
	if len(c.Activations) == 0 {
		fmt.Fprintf(w, "None: no trigger fired on the day.\n\n")
	} else {
		var rows [][]string
		for _, a := range c.Activations {
			status := a.Status()
			if a.Overdue {
				status = "**OVERDUE**"
			}
			rows = append(rows, []string{string(a.Nation), a.Pledge, a.Trigger, a.AtDTG, a.DueDTG, status})
		}
		table(w, []string{"Nation", "Pledge", "Trigger", "Fired", "Due", "Status"}, rows)
	}
	fmt.Fprintf(w, "### Long-term support\n\n")
	var rows [][]string
	for _, t := range c.Support.ByType {
		rows = append(rows, []string{string(t.Type), fmt.Sprint(t.Records), Quantity(t.ValueEUR), Quantity(t.AllocatedEUR), Quantity(t.DeliveredEUR)})
	}
	t := c.Support.All
	rows = append(rows, []string{"total", fmt.Sprint(t.Records), Quantity(t.ValueEUR), Quantity(t.AllocatedEUR), Quantity(t.DeliveredEUR)})
	table(w, []string{"Type", "Records", "Value (EUR)", "Allocated (EUR)", "Delivered (EUR)"}, rows)
}
