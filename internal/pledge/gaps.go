package pledge

import (
	"cmp"
	"slices"
	"strings"

	"github.com/truce-dev/truce/internal/truce"
)

// GapQuery asks for the gaps at a stage, and what-ifs.
type GapQuery struct {
	// Stage counts pledges at it or past it (default approved).
	Stage truce.PledgeStage
	// Without leaves out these nations' pledges: what if they withdrew.
	Without []truce.NationID
	// CaveatsHold leaves out, from each requirement, the pledges whose
	// caveats keep them from it: a domain they do not operate in, or a
	// region other than the one they stay within.
	CaveatsHold bool
	// CaveatsOf holds the caveats of these nations' pledges only (with
	// CaveatsHold false): what if a given caveat held.
	CaveatsOf []truce.NationID
	// Keep and KeepRequirement, when set, restrict the gaps to the
	// records they keep: what the caller may see.
	Keep            func(*truce.Pledge) bool
	KeepRequirement func(*truce.Requirement) bool
}

// Share is one pledge's part in a requirement.
type Share struct {
	Pledge     string
	Nation     truce.NationID
	Quantity   float64
	Stage      truce.PledgeStage
	Contingent bool
	// Counts reports whether the share counts against the requirement at
	// the query's stage: standing pledges at or past it, and contingent
	// ones once their activation is acknowledged.
	Counts bool
	// Excluded says why a what-if left the share out ("" when it did not).
	Excluded string
}

// Gap is a requirement with what is pledged towards it.
type Gap struct {
	Requirement truce.Requirement
	// ByStage sums the pledged quantity at each stage (standing and
	// contingent, what-ifs applied), withdrawn pledges left out.
	ByStage map[truce.PledgeStage]float64
	// Counted is what counts at the query's stage; Missing the rest of the
	// requirement (0 when covered); Contingent what contingent pledges not
	// yet acknowledged would add.
	Counted, Missing, Contingent float64
	Shares                       []Share
}

// NationPledges sums a nation's pledges by stage and capability.
type NationPledges struct {
	Nation truce.NationID
	// Pledges counts its pledges (withdrawn left out) at each stage.
	Pledges map[truce.PledgeStage]int
	// Contingent counts its contingent pledges.
	Contingent int
	Caveats    []string // the caveats of its pledges, as written
}

// Gaps is the whole picture at a stage.
type Gaps struct {
	Query        GapQuery
	Requirements []Gap
	Nations      []NationPledges
	// AwaitingApproval lists the pledges that need a body's approval and
	// have not had it yet.
	AwaitingApproval []truce.Pledge
	// Unassigned lists the pledges that name no requirement (or one that
	// does not exist).
	Unassigned []truce.Pledge
}

// caveatKeeps reports why pl's caveats keep it from r, or "".
func caveatKeeps(pl *truce.Pledge, r *truce.Requirement) string {
	c := &pl.Caveat
	if len(c.Domains) > 0 && r.Domain != "" && !slices.Contains(c.Domains, r.Domain) {
		return "caveat: not in the " + string(r.Domain) + " domain"
	}
	if c.Within != "" && r.Where != "" && c.Within != r.Where {
		return "caveat: stays within " + c.Within + ", not " + r.Where
	}
	return ""
}

// Gaps computes the gaps for q.
func (b *Book) Gaps(q GapQuery) Gaps {
	if q.Stage == "" {
		q.Stage = truce.StageApproved
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	acked := map[string]bool{}
	for _, a := range b.acts {
		if a.Acknowledged() {
			acked[a.Pledge] = true
		}
	}
	out := Gaps{Query: q}
	pledges := sortedValues(b.pledges, q.Keep, func(p *truce.Pledge) string { return p.ID })
	for _, r := range sortedValues(b.reqs, q.KeepRequirement, func(r *truce.Requirement) string { return r.ID }) {
		g := Gap{Requirement: r, ByStage: map[truce.PledgeStage]float64{}}
		for i := range pledges {
			pl := &pledges[i]
			if pl.Requirement != r.ID || pl.Stage == truce.StageWithdrawn {
				continue
			}
			s := Share{Pledge: pl.ID, Nation: pl.Nation, Quantity: pl.Quantity, Stage: pl.Stage, Contingent: pl.Contingent}
			switch {
			case pl.Unit != r.Unit || pl.Capability != r.Capability:
				s.Excluded = "offers " + string(pl.Capability) + " in " + pl.Unit + ", not " + string(r.Capability) + " in " + r.Unit
			case slices.Contains(q.Without, pl.Nation):
				s.Excluded = "what if " + string(pl.Nation) + " withdrew"
			case q.CaveatsHold || slices.Contains(q.CaveatsOf, pl.Nation):
				s.Excluded = caveatKeeps(pl, &r)
			}
			if s.Excluded == "" {
				g.ByStage[pl.Stage] += pl.Quantity
				s.Counts = pl.Stage.AtLeast(q.Stage) && (!pl.Contingent || acked[pl.ID])
				switch {
				case s.Counts:
					g.Counted += pl.Quantity
				case pl.Contingent && pl.Stage.AtLeast(q.Stage):
					g.Contingent += pl.Quantity
				}
			}
			g.Shares = append(g.Shares, s)
		}
		g.Missing = max(0, r.Quantity-g.Counted)
		out.Requirements = append(out.Requirements, g)
	}
	byNation := map[truce.NationID]*NationPledges{}
	for i := range pledges {
		pl := &pledges[i]
		if r, ok := b.reqs[pl.Requirement]; (!ok || (q.KeepRequirement != nil && !q.KeepRequirement(r))) && pl.Stage != truce.StageWithdrawn {
			out.Unassigned = append(out.Unassigned, *pl)
		}
		if pl.Approval != "" && pl.Stage.Rank() >= 0 && pl.Stage.Rank() < truce.StageApproved.Rank() {
			out.AwaitingApproval = append(out.AwaitingApproval, *pl)
		}
		if pl.Stage == truce.StageWithdrawn || slices.Contains(q.Without, pl.Nation) {
			continue
		}
		n := byNation[pl.Nation]
		if n == nil {
			n = &NationPledges{Nation: pl.Nation, Pledges: map[truce.PledgeStage]int{}}
			byNation[pl.Nation] = n
		}
		n.Pledges[pl.Stage]++
		if pl.Contingent {
			n.Contingent++
		}
		if t := strings.TrimSpace(pl.Caveat.Text); t != "" && !slices.Contains(n.Caveats, t) {
			n.Caveats = append(n.Caveats, t)
		}
	}
	for _, n := range byNation {
		out.Nations = append(out.Nations, *n)
	}
	slices.SortFunc(out.Nations, func(x, y NationPledges) int { return cmp.Compare(x.Nation, y.Nation) })
	return out
}

// Totals sums support records.
type Totals struct {
	Records int
	// ValueEUR is every record's value; AllocatedEUR the value of those
	// allocated; DeliveredEUR what was delivered.
	ValueEUR, AllocatedEUR, DeliveredEUR float64
}

func (t *Totals) add(s *truce.Support) {
	t.Records++
	t.ValueEUR += s.ValueEUR
	t.DeliveredEUR += s.DeliveredEUR
	if s.Stage == truce.SupportAllocated {
		t.AllocatedEUR += s.ValueEUR
	}
}

// SupportTotals sums support by donor, by type and by year of announcement.
type SupportTotals struct {
	All     Totals
	ByDonor map[truce.NationID]Totals
	ByType  map[truce.SupportType]Totals
	ByYear  map[int]Totals
}

// SumSupport sums the support records in ss.
func SumSupport(ss []truce.Support) SupportTotals {
	t := SupportTotals{ByDonor: map[truce.NationID]Totals{}, ByType: map[truce.SupportType]Totals{}, ByYear: map[int]Totals{}}
	for i := range ss {
		s := &ss[i]
		t.All.add(s)
		d := t.ByDonor[s.Donor]
		d.add(s)
		t.ByDonor[s.Donor] = d
		ty := t.ByType[s.Type]
		ty.add(s)
		t.ByType[s.Type] = ty
		y := t.ByYear[s.Announced.Year()]
		y.add(s)
		t.ByYear[s.Announced.Year()] = y
	}
	return t
}
