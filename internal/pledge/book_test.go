package pledge

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/truce"
)

func day(d int) time.Time { return time.Date(2026, 9, d, 0, 0, 0, 0, time.UTC) }

func ok[T any](T) error { return nil }

var amber = truce.Marking{TLP: truce.TLPAmber}

func pledgeOf(id string, nation truce.NationID, c truce.Capability, q float64, unit, req string) truce.Pledge {
	return truce.Pledge{ID: id, Nation: nation, Capability: c, Quantity: q, Unit: unit, Requirement: req, Marking: amber}
}

func step(s truce.PledgeStage, d int, ref string) truce.StageChange {
	return truce.StageChange{Stage: s, Date: day(d), By: "government", Reference: ref}
}

// TestStageTransitions walks every stage change, allowed and not.
func TestStageTransitions(t *testing.T) {
	tests := []struct {
		name    string
		path    []truce.StageChange // after the first, which creates
		approve string              // the pledge's Approval
		wantErr string              // of the last change; "" for none
		isErr   error
	}{
		{"the whole way, forces", []truce.StageChange{step("proposed", 1, ""), step("announced", 2, ""), step("approved", 3, ""), step("ready", 4, ""), step("deployed", 5, "")}, "", "", nil},
		{"the whole way, materiel", []truce.StageChange{step("announced", 1, ""), step("approved", 2, ""), step("delivered", 9, "")}, "", "", nil},
		{"stages may be skipped", []truce.StageChange{step("proposed", 1, ""), step("ready", 2, "")}, "", "", nil},
		{"withdrawn from any stage", []truce.StageChange{step("approved", 1, ""), step("withdrawn", 2, "")}, "", "", nil},
		{"no going back", []truce.StageChange{step("approved", 1, ""), step("announced", 2, "")}, "",
			"pledge p is approved; it cannot go back or stay at announced", truce.ErrConflict},
		{"no standing still", []truce.StageChange{step("ready", 1, ""), step("ready", 2, "")}, "", "cannot go back or stay at ready", truce.ErrConflict},
		{"nothing after the last stage", []truce.StageChange{step("ready", 1, ""), step("deployed", 2, ""), step("withdrawn", 3, "")}, "",
			"pledge p is deployed, its last stage; it cannot become withdrawn", truce.ErrConflict},
		{"nothing after withdrawal", []truce.StageChange{step("announced", 1, ""), step("withdrawn", 2, ""), step("approved", 3, "")}, "",
			"pledge p was withdrawn on 2026-09-02; it cannot become approved", truce.ErrConflict},
		{"not before the last change", []truce.StageChange{step("announced", 5, ""), step("approved", 4, "")}, "",
			"pledge p.stage_date: 2026-09-04 is before the pledge's last change, 2026-09-05", truce.ErrInvalid},
		{"an approval names its vote", []truce.StageChange{step("announced", 1, ""), step("approved", 2, "")}, "Bundestag",
			"pledge p.stage_reference: approval by Bundestag needs its reference, such as the vote", truce.ErrInvalid},
		{"with its vote", []truce.StageChange{step("announced", 1, ""), step("approved", 2, "Bundestag vote 21/114")}, "Bundestag", "", nil},
		{"an unknown stage", []truce.StageChange{step("announced", 1, ""), step("promised", 2, "")}, "",
			`pledge p.stage: unknown pledge stage "promised"`, truce.ErrInvalid},
		{"cannot begin withdrawn", []truce.StageChange{step("withdrawn", 1, "")}, "", "pledge p.stage: a pledge cannot begin withdrawn", truce.ErrInvalid},
		{"a change needs its date", []truce.StageChange{step("announced", 1, ""), {Stage: "approved", By: "x"}}, "", "pledge p.stage_date: is required", truce.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBook(Options{})
			p := pledgeOf("p", "DEU", truce.CapAirPolicing, 4, "aircraft", "")
			p.Approval = tc.approve
			var err error
			var got truce.Pledge
			for i, c := range tc.path {
				if i == 0 {
					got, err = b.AddPledge(p, c, ok)
				} else {
					got, err = b.Advance("p", i, c, 0, ok)
				}
				if err != nil && i < len(tc.path)-1 {
					t.Fatalf("step %d (%s): %v", i, c.Stage, err)
				}
			}
			if tc.wantErr == "" {
				last := tc.path[len(tc.path)-1]
				if err != nil || got.Stage != last.Stage || len(got.History) != len(tc.path) || got.Version != len(tc.path) {
					t.Fatalf("got %s with %d changes v%d, %v; want %s, %d, v%d", got.Stage, len(got.History), got.Version, err, last.Stage, len(tc.path), len(tc.path))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, tc.isErr) {
				t.Fatalf("error %v; want it to contain %q and match %v", err, tc.wantErr, tc.isErr)
			}
			// A refused change changes nothing.
			if n := len(tc.path) - 1; n > 0 {
				if cur, _ := b.Pledge("p"); cur.Version != n || cur.Stage != tc.path[n-1].Stage {
					t.Errorf("after a refused change the pledge is %s v%d; want %s v%d", cur.Stage, cur.Version, tc.path[n-1].Stage, n)
				}
			}
		})
	}
}

func TestStaleVersionAndCommitFailure(t *testing.T) {
	b := NewBook(Options{})
	if _, err := b.AddPledge(pledgeOf("p", "FRA", truce.CapLandForce, 1, "battalion", ""), step("announced", 1, ""), ok); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Advance("p", 7, step("approved", 2, ""), 0, ok); !errors.Is(err, truce.ErrConflict) || !strings.Contains(err.Error(), "at version 1, not 7") {
		t.Errorf("stale version: %v", err)
	}
	boom := errors.New("disk full")
	if _, err := b.Advance("p", 1, step("approved", 2, ""), 0, func(truce.Pledge) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("commit failure: %v", err)
	}
	if cur, _ := b.Pledge("p"); cur.Stage != truce.StageAnnounced || cur.Version != 1 {
		t.Errorf("after a failed commit: %s v%d", cur.Stage, cur.Version)
	}
	if _, err := b.AddPledge(pledgeOf("p", "FRA", truce.CapLandForce, 1, "battalion", ""), step("announced", 1, ""), ok); !errors.Is(err, truce.ErrConflict) {
		t.Errorf("a second pledge p: %v", err)
	}
	if _, err := b.Advance("nope", 0, step("approved", 2, ""), 0, ok); !errors.Is(err, truce.ErrNotFound) {
		t.Errorf("unknown pledge: %v", err)
	}
}

// workedBook is the hand-worked example of docs/commitments.md: two
// requirements, six pledges.
//
//	req land: 4 battalions of land_force, land domain, in ukraine
//	  GBR 2 battalions, deployed
//	  FRA 1 battalion, approved
//	  DEU 1 battalion, announced, awaiting the Bundestag
//	  POL 1 battalion, ready, caveat: stays within adjacent_territory
//	  NLD 1 battalion, approved, contingent on renewed_aggression
//	req air: 12 aircraft of air_policing, air domain
//	  DEU 8 aircraft, approved, caveat domains [air]
//	  ITA 2 aircraft, withdrawn
func workedBook(t *testing.T) *Book {
	b := NewBook(Options{AckWithin: 6 * time.Hour})
	for _, r := range []truce.Requirement{
		{ID: "land", Capability: truce.CapLandForce, Quantity: 4, Unit: "battalion", Domain: truce.DomainLand, Where: "ukraine", Marking: amber},
		{ID: "air", Capability: truce.CapAirPolicing, Quantity: 12, Unit: "aircraft", Domain: truce.DomainAir, Marking: amber},
	} {
		if _, err := b.PutRequirement(r, 0, ok); err != nil {
			t.Fatal(err)
		}
	}
	add := func(p truce.Pledge, path ...truce.StageChange) {
		t.Helper()
		if _, err := b.AddPledge(p, path[0], ok); err != nil {
			t.Fatal(err)
		}
		for i, c := range path[1:] {
			if _, err := b.Advance(p.ID, i+1, c, 0, ok); err != nil {
				t.Fatal(err)
			}
		}
	}
	add(pledgeOf("gbr", "GBR", truce.CapLandForce, 2, "battalion", "land"), step("approved", 1, ""), step("deployed", 9, ""))
	add(pledgeOf("fra", "FRA", truce.CapLandForce, 1, "battalion", "land"), step("approved", 2, ""))
	deu := pledgeOf("deu-land", "DEU", truce.CapLandForce, 1, "battalion", "land")
	deu.Approval = "Bundestag"
	add(deu, step("announced", 3, ""))
	pol := pledgeOf("pol", "POL", truce.CapLandForce, 1, "battalion", "land")
	pol.Caveat = truce.PledgeCaveat{Text: "from Polish territory only", Within: "adjacent_territory"}
	add(pol, step("ready", 4, ""))
	nld := pledgeOf("nld", "NLD", truce.CapLandForce, 1, "battalion", "land")
	nld.Contingent, nld.Trigger = true, truce.RenewedAggression
	add(nld, step("approved", 5, ""))
	deuAir := pledgeOf("deu-air", "DEU", truce.CapAirPolicing, 8, "aircraft", "air")
	deuAir.Caveat = truce.PledgeCaveat{Text: "air only", Domains: []truce.Domain{truce.DomainAir}}
	add(deuAir, step("approved", 6, ""))
	add(pledgeOf("ita", "ITA", truce.CapAirPolicing, 2, "aircraft", "air"), step("announced", 1, ""), step("withdrawn", 7, ""))
	add(pledgeOf("swe-isr", "SWE", truce.CapISR, 2, "aircraft", ""), step("announced", 8, ""))
	return b
}

func gapOf(t *testing.T, g Gaps, req string) Gap {
	t.Helper()
	for _, x := range g.Requirements {
		if x.Requirement.ID == req {
			return x
		}
	}
	t.Fatalf("no gap for %s", req)
	return Gap{}
}

// TestGapsWorkedExample checks the arithmetic against the figures worked
// out by hand in workedBook's comment.
func TestGapsWorkedExample(t *testing.T) {
	b := workedBook(t)
	tests := []struct {
		name                                string
		q                                   GapQuery
		req                                 string
		counted, missing, contingent, ahead float64 // ahead: ByStage[announced]
	}{
		// At approved: GBR 2 (deployed) + FRA 1 + POL 1 (ready) = 4;
		// NLD is contingent and not activated; DEU land is only announced.
		{"land at approved", GapQuery{Stage: truce.StageApproved}, "land", 4, 0, 1, 1},
		// At ready: GBR 2 + POL 1 = 3, one missing.
		{"land at ready", GapQuery{Stage: truce.StageReady}, "land", 3, 1, 0, 1},
		// At announced: DEU joins: 5, nothing missing.
		{"land at announced", GapQuery{Stage: truce.StageAnnounced}, "land", 5, 0, 1, 1},
		// Without GBR: FRA 1 + POL 1 = 2, two missing.
		{"land without GBR", GapQuery{Stage: truce.StageApproved, Without: []truce.NationID{"GBR"}}, "land", 2, 2, 1, 1},
		// Caveats held: POL stays within adjacent territory, not ukraine:
		// GBR 2 + FRA 1 = 3.
		{"land, caveats held", GapQuery{Stage: truce.StageApproved, CaveatsHold: true}, "land", 3, 1, 1, 1},
		// POL's caveat alone: the same; another nation's: nothing changes.
		{"land, POL's caveat held", GapQuery{Stage: truce.StageApproved, CaveatsOf: []truce.NationID{"POL"}}, "land", 3, 1, 1, 1},
		{"land, FRA's caveats held", GapQuery{Stage: truce.StageApproved, CaveatsOf: []truce.NationID{"FRA"}}, "land", 4, 0, 1, 1},
		// Air: DEU 8 of 12 (ITA withdrew); DEU's air-only caveat suits an
		// air requirement.
		{"air at approved", GapQuery{}, "air", 8, 4, 0, 0},
		{"air, caveats held", GapQuery{CaveatsHold: true}, "air", 8, 4, 0, 0},
		{"air without DEU", GapQuery{Without: []truce.NationID{"DEU"}}, "air", 0, 12, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := gapOf(t, b.Gaps(tc.q), tc.req)
			if g.Counted != tc.counted || g.Missing != tc.missing || g.Contingent != tc.contingent || g.ByStage[truce.StageAnnounced] != tc.ahead {
				t.Errorf("counted %g missing %g contingent %g announced %g; want %g %g %g %g",
					g.Counted, g.Missing, g.Contingent, g.ByStage[truce.StageAnnounced], tc.counted, tc.missing, tc.contingent, tc.ahead)
			}
		})
	}
	g := b.Gaps(GapQuery{CaveatsHold: true, Without: []truce.NationID{"GBR"}})
	land := gapOf(t, g, "land")
	why := map[string]string{}
	for _, s := range land.Shares {
		why[s.Pledge] = s.Excluded
	}
	if why["gbr"] != "what if GBR withdrew" || why["pol"] != "caveat: stays within adjacent_territory, not ukraine" || why["fra"] != "" {
		t.Errorf("exclusions %v", why)
	}
	if len(g.AwaitingApproval) != 1 || g.AwaitingApproval[0].ID != "deu-land" {
		t.Errorf("awaiting approval: %v", g.AwaitingApproval)
	}
	if len(g.Unassigned) != 1 || g.Unassigned[0].ID != "swe-isr" {
		t.Errorf("unassigned: %v", g.Unassigned)
	}
	for _, n := range g.Nations {
		if n.Nation == "GBR" || n.Nation == "ITA" {
			t.Errorf("nation %s listed: left out (what-if) and withdrawn", n.Nation)
		}
		if n.Nation == "DEU" && (n.Pledges[truce.StageAnnounced] != 1 || n.Pledges[truce.StageApproved] != 1) {
			t.Errorf("DEU pledges %v", n.Pledges)
		}
	}
}

// TestActivation: the trigger activates the contingent pledge, once; an
// activation not acknowledged in time is overdue; acknowledged, the
// pledge counts.
func TestActivation(t *testing.T) {
	b := workedBook(t)
	fired := time.Date(2026, 9, 20, 18, 0, 0, 0, time.UTC)
	acts, err := b.Trigger("some_other_trigger", fired, ok)
	if err != nil || len(acts) != 0 {
		t.Fatalf("another trigger activated %v, %v", acts, err)
	}
	acts, err = b.Trigger(truce.RenewedAggression, fired, ok)
	if err != nil || len(acts) != 1 {
		t.Fatalf("activations %v, %v; want NLD's", acts, err)
	}
	a := acts[0]
	if a.Pledge != "nld" || a.Nation != "NLD" || !a.Due.Equal(fired.Add(6*time.Hour)) || a.Acknowledged() {
		t.Errorf("activation %+v", a)
	}
	if again, _ := b.Trigger(truce.RenewedAggression, fired, ok); len(again) != 0 {
		t.Errorf("the same firing activated again: %v", again)
	}
	if a.Overdue(fired.Add(6*time.Hour)) || !a.Overdue(fired.Add(6*time.Hour+time.Second)) {
		t.Error("overdue should begin just after the due time")
	}
	if _, err := b.Acknowledge(a.ID, "FRA", fired.Add(time.Hour), ok); !errors.Is(err, truce.ErrConflict) {
		t.Errorf("FRA acknowledged NLD's activation: %v", err)
	}
	if g := gapOf(t, b.Gaps(GapQuery{}), "land"); g.Counted != 4 || g.Contingent != 1 {
		t.Errorf("before acknowledgement: counted %g contingent %g", g.Counted, g.Contingent)
	}
	got, err := b.Acknowledge(a.ID, "NLD", fired.Add(time.Hour), ok)
	if err != nil || !got.Acknowledged() || got.Overdue(fired.Add(48*time.Hour)) {
		t.Fatalf("acknowledge: %+v, %v", got, err)
	}
	if g := gapOf(t, b.Gaps(GapQuery{}), "land"); g.Counted != 5 || g.Contingent != 0 {
		t.Errorf("after acknowledgement: counted %g contingent %g; want 5, 0", g.Counted, g.Contingent)
	}
}

func TestSupportTotals(t *testing.T) {
	ss := []truce.Support{
		{ID: "1", Donor: "DEU", Type: truce.SupportMilitary, ValueEUR: 100, DeliveredEUR: 60, Stage: truce.SupportAllocated, Announced: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{ID: "2", Donor: "DEU", Type: truce.SupportFinancial, ValueEUR: 50, Stage: truce.SupportCommitted, Announced: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)},
		{ID: "3", Donor: "GBR", Type: truce.SupportMilitary, ValueEUR: 30, DeliveredEUR: 30, Stage: truce.SupportAllocated, Announced: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)},
	}
	tot := SumSupport(ss)
	if tot.All != (Totals{Records: 3, ValueEUR: 180, AllocatedEUR: 130, DeliveredEUR: 90}) {
		t.Errorf("all %+v", tot.All)
	}
	if tot.ByDonor["DEU"] != (Totals{Records: 2, ValueEUR: 150, AllocatedEUR: 100, DeliveredEUR: 60}) || tot.ByType[truce.SupportMilitary].DeliveredEUR != 90 || tot.ByYear[2025].ValueEUR != 80 {
		t.Errorf("by donor %+v, type %+v, year %+v", tot.ByDonor, tot.ByType, tot.ByYear)
	}
	bad := ss[0]
	bad.DeliveredEUR = 101
	if err := ValidateSupport(&bad); err == nil || !strings.Contains(err.Error(), "support 1.delivered_eur: must be between 0 and the value, 100, not 101") {
		t.Errorf("delivered over value: %v", err)
	}
}

func TestValidatePledge(t *testing.T) {
	p := pledgeOf("x y", "GB", "tanks", 0, "", "")
	p.Trigger = "renewed_aggression"
	err := ValidatePledge(&p)
	for _, want := range []string{
		`pledge x y.id: "x y" must be`, `pledge x y.nation: "GB" is not an ISO 3166 alpha-3 code`, `pledge x y.capability: unknown capability "tanks"`,
		"pledge x y.quantity: must be above 0", "pledge x y.unit: must be 1 to 40 characters", "pledge x y.trigger: only a contingent pledge answers a trigger",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

// TestMarkOverdue: activations that fell due unacknowledged are recorded
// overdue once; an acknowledged one is not; a replayed older state undoes
// neither.
func TestMarkOverdue(t *testing.T) {
	b := workedBook(t)
	fired := time.Date(2026, 9, 20, 18, 0, 0, 0, time.UTC)
	acts, err := b.Trigger(truce.RenewedAggression, fired, ok)
	if err != nil || len(acts) != 1 {
		t.Fatal(acts, err)
	}
	if got, _ := b.MarkOverdue(fired.Add(6*time.Hour), ok); len(got) != 0 {
		t.Errorf("marked at the due time: %v", got)
	}
	got, err := b.MarkOverdue(fired.Add(7*time.Hour), ok)
	if err != nil || len(got) != 1 || !got[0].OverdueAt.Equal(fired.Add(6*time.Hour)) {
		t.Fatalf("marked %+v, %v; want NLD's, overdue at its due time", got, err)
	}
	if again, _ := b.MarkOverdue(fired.Add(8*time.Hour), ok); len(again) != 0 {
		t.Errorf("marked twice: %v", again)
	}
	b.ApplyActivation(acts[0]) // the older state, replayed
	if a := b.Activations(nil)[0]; a.OverdueAt.IsZero() {
		t.Error("replaying the activation undid its lateness")
	}
	late, err := b.Acknowledge(acts[0].ID, "NLD", fired.Add(9*time.Hour), ok)
	if err != nil || !late.Acknowledged() || late.OverdueAt.IsZero() {
		t.Errorf("acknowledged late: %+v, %v; want acknowledged and still recorded overdue", late, err)
	}
}
