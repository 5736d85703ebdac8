package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/truce-dev/truce/internal/pledge"
	"github.com/truce-dev/truce/internal/truce"
)

// handCommitments are commitments worked out by hand: three requirements,
// five pledges from four nations, activations on the report's day (GBR's
// overdue at the cut-off, FRA's acknowledged) and one the day before, and
// two support records.
func handCommitments() *Commitments {
	b := pledge.NewBook(pledge.Options{})
	for _, r := range []truce.Requirement{
		{ID: "req-air-defence", Capability: truce.CapAirDefence, Quantity: 6, Unit: "battery"},
		{ID: "req-land-reserve", Capability: truce.CapLandForce, Quantity: 4, Unit: "battalion"},
		{ID: "req-funding", Capability: truce.CapFunding, Quantity: 6e9, Unit: "EUR"},
	} {
		b.ApplyRequirement(r)
	}
	pl := func(id string, n truce.NationID, c truce.Capability, q float64, unit, req string, st truce.PledgeStage) truce.Pledge {
		return truce.Pledge{ID: id, Nation: n, Capability: c, Quantity: q, Unit: unit, Requirement: req, Stage: st, Version: 1}
	}
	nld := pl("nld-airdef-1", "NLD", truce.CapAirDefence, 1, "battery", "req-air-defence", truce.StageAnnounced)
	nld.Approval = "House of Representatives"
	gbr := pl("gbr-land-r1", "GBR", truce.CapLandForce, 1, "battalion", "req-land-reserve", truce.StageApproved)
	gbr.Contingent, gbr.Trigger = true, truce.RenewedAggression
	fra := pl("fra-land-r1", "FRA", truce.CapLandForce, 1, "battalion", "req-land-reserve", truce.StageApproved)
	fra.Contingent, fra.Trigger = true, truce.RenewedAggression
	for _, p := range []truce.Pledge{
		pl("fra-airdef-1", "FRA", truce.CapAirDefence, 1, "battery", "req-air-defence", truce.StageApproved),
		nld, gbr, fra,
		pl("deu-fund-1", "DEU", truce.CapFunding, 6e9, "EUR", "req-funding", truce.StageApproved),
	} {
		b.ApplyPledge(p)
	}
	acts := []truce.Activation{
		{ID: "gbr-land-r1@a", Pledge: "gbr-land-r1", Nation: "GBR", Trigger: truce.RenewedAggression, At: at("2026-11-25T06:00:00Z"), Due: at("2026-11-25T18:00:00Z")},
		{ID: "fra-land-r1@a", Pledge: "fra-land-r1", Nation: "FRA", Trigger: truce.RenewedAggression, At: at("2026-11-25T06:00:00Z"), Due: at("2026-11-25T18:00:00Z"),
			AckAt: at("2026-11-25T07:00:00Z"), AckBy: "FRA"},
		{ID: "gbr-land-r1@b", Pledge: "gbr-land-r1", Nation: "GBR", Trigger: truce.RenewedAggression, At: at("2026-11-24T06:00:00Z"), Due: at("2026-11-24T18:00:00Z")},
	}
	for _, a := range acts {
		b.ApplyActivation(a)
	}
	return &Commitments{
		Gaps:        b.Gaps(pledge.GapQuery{Stage: truce.StageApproved}),
		Activations: acts,
		Support: pledge.SumSupport([]truce.Support{
			{ID: "s1", Donor: "DEU", Type: truce.SupportMilitary, Item: "x", ValueEUR: 100, DeliveredEUR: 50, Stage: truce.SupportAllocated, Announced: at("2025-06-30T00:00:00Z")},
			{ID: "s2", Donor: "FRA", Type: truce.SupportFinancial, Item: "y", ValueEUR: 200, Stage: truce.SupportCommitted, Announced: at("2025-06-30T00:00:00Z")},
		}),
	}
}

func TestCommitments(t *testing.T) {
	in := handInput(t)
	in.Commitments = handCommitments()
	r, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.JSON(&b); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Commitments *CommitmentsSection `json:"commitments"`
	}
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	c := back.Commitments
	if c == nil {
		t.Fatalf("JSON has no commitments:\n%s", b.String())
	}
	if c.Stage != truce.StageApproved || c.Pledges != 5 || c.Nations != 4 {
		t.Errorf("stage %s, %d pledges from %d nations; want approved, 5 from 4", c.Stage, c.Pledges, c.Nations)
	}
	// req-land-reserve: FRA's contingent battalion counts (acknowledged),
	// GBR's does not yet.
	wantReqs := []RequirementGap{
		{ID: "req-air-defence", Capability: truce.CapAirDefence, Needed: 6, Pledged: 1, Missing: 5, Unit: "battery"},
		{ID: "req-funding", Capability: truce.CapFunding, Needed: 6e9, Pledged: 6e9, Unit: "EUR"},
		{ID: "req-land-reserve", Capability: truce.CapLandForce, Needed: 4, Pledged: 1, Missing: 3, Contingent: 1, Unit: "battalion"},
	}
	if !reflect.DeepEqual(c.Requirements, wantReqs) {
		t.Errorf("requirements:\n got %+v\nwant %+v", c.Requirements, wantReqs)
	}
	wantPending := []PendingPledge{{Pledge: "nld-airdef-1", Nation: "NLD", Quantity: 1, Unit: "battery", Capability: truce.CapAirDefence, Stage: truce.StageAnnounced, Body: "House of Representatives"}}
	if !reflect.DeepEqual(c.AwaitingApproval, wantPending) {
		t.Errorf("awaiting approval: got %+v, want %+v", c.AwaitingApproval, wantPending)
	}
	// The day's two (FRA before GBR at the same time); the day before's
	// left out. At the cut-off, 21:00, GBR's is past due.
	if len(c.Activations) != 2 {
		t.Fatalf("activations: got %+v, want FRA's and GBR's of the day", c.Activations)
	}
	if a := c.Activations[0]; a.Nation != "FRA" || !a.Acknowledged || a.Overdue || a.AtDTG != "250600Z NOV 26" {
		t.Errorf("FRA's activation: got %+v, want acknowledged, fired 250600Z NOV 26", a)
	}
	if a := c.Activations[1]; a.Nation != "GBR" || a.Acknowledged || !a.Overdue || a.DueDTG != "251800Z NOV 26" {
		t.Errorf("GBR's activation: got %+v, want overdue, due 251800Z NOV 26", a)
	}
	wantSupport := SupportSection{
		All:    SupportTotal{Records: 2, ValueEUR: 300, AllocatedEUR: 100, DeliveredEUR: 50},
		ByType: []SupportTotal{{Type: truce.SupportFinancial, Records: 1, ValueEUR: 200}, {Type: truce.SupportMilitary, Records: 1, ValueEUR: 100, AllocatedEUR: 100, DeliveredEUR: 50}},
	}
	if !reflect.DeepEqual(c.Support, wantSupport) {
		t.Errorf("support:\n got %+v\nwant %+v", c.Support, wantSupport)
	}

	b.Reset()
	if err := r.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"## Commitments\n\n5 pledges from 4 nations. Gaps at stage approved",
		"| Requirement | Capability | Needed | Pledged | Missing | Contingent | Unit |",
		"| req-air-defence | air_defence | 6 | 1 | 5 | 0 | battery |",
		"| req-funding | funding | 6,000,000,000 | 6,000,000,000 | 0 | 0 | EUR |",
		"| nld-airdef-1 | NLD | 1 | battery | air_defence | announced | House of Representatives |",
		"| FRA | fra-land-r1 | renewed_aggression | 250600Z NOV 26 | 251800Z NOV 26 | acknowledged |",
		"| GBR | gbr-land-r1 | renewed_aggression | 250600Z NOV 26 | 251800Z NOV 26 | **OVERDUE** |",
		"| total | 2 | 300 | 100 | 50 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	if i, j := strings.Index(md, "## Seven-day trend"), strings.Index(md, "## Commitments"); i < 0 || j < i {
		t.Errorf("Markdown: the commitments section at %d, want it after the trend (%d)", j, i)
	}

	b.Reset()
	if err := r.HTML(&b); err != nil {
		t.Fatal(err)
	}
	h := b.String()
	for _, want := range []string{
		"<h2>Commitments</h2>",
		`<tr class="missing"><td>req-air-defence</td>`,
		`<tr><td>req-funding</td>`,
		`<tr class="overdue"><td>GBR</td>`,
		"<strong>overdue</strong>",
		`<td class="n">6,000,000,000</td>`,
	} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if got, want := strings.Count(h, "<table>"), strings.Count(h, "</table>"); got != want {
		t.Errorf("tables: %d opened, %d closed", got, want)
	}
	sec := fragment(t, h, "<h2>Commitments</h2>", `<p class="note">Times`)
	if err := wellFormed("<div>" + strings.TrimSuffix(sec, `<p class="note">Times`) + "</div>"); err != nil {
		t.Errorf("the commitments section is not well-formed: %v", err)
	}
}

func TestNoCommitments(t *testing.T) {
	r := build(t)
	if r.Commitments != nil {
		t.Fatalf("commitments: got %+v, want none", r.Commitments)
	}
	var j, md, h bytes.Buffer
	if err := r.JSON(&j); err != nil {
		t.Fatal(err)
	}
	if err := r.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := r.HTML(&h); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(j.String(), `"commitments"`) || strings.Contains(md.String(), "Commitments") || strings.Contains(h.String(), "Commitments") {
		t.Error("a report without commitments has a commitments section")
	}
}

func TestQuantity(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{
		{0, "0"}, {0.5, "0.5"}, {6, "6"}, {1500, "1,500"}, {6e9, "6,000,000,000"}, {123456.7891, "123,456.789"}, {-1234, "-1,234"}, {-0.0001, "0"},
	} {
		if got := Quantity(c.in); got != c.want {
			t.Errorf("Quantity(%g): got %q, want %q", c.in, got, c.want)
		}
	}
}
