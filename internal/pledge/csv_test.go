package pledge

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/truce-dev/truce/examples/coalition"
	"github.com/truce-dev/truce/internal/truce"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// problemsOf returns the messages of err, which must be truce.Problems.
func problemsOf(t *testing.T, err error) string {
	t.Helper()
	var probs truce.Problems
	if !errors.As(err, &probs) {
		t.Fatalf("got error %v (%T), want truce.Problems", err, err)
	}
	if !errors.Is(err, truce.ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
	}
	return probs.Error()
}

const (
	pledgeHeader = "id,nation,capability,quantity,unit,stage,stage_date"
	capList      = "land_force, air_policing, maritime, isr, intelligence, air_defence, weapons, training, logistics, funding, technology"
	pledgeCols   = "id, nation, capability, quantity, unit, stage, stage_date, stage_by, stage_reference, requirement, contingent, trigger, approval, caveat, caveat_domains, caveat_within, marking, note"
)

func TestDecodePledgesErrors(t *testing.T) {
	ok := "p1,GBR,land_force,1,battalion,announced,2025-09-04"
	tests := []struct {
		name, in, want string
	}{
		{"empty input", "", "p.csv: is empty: want a header row naming the columns (" + strings.ReplaceAll(pledgeCols, ", ", ",") + ")"},
		{"unknown column", "id,nation,colour,capability,quantity,unit,stage,stage_date\n",
			`p.csv:1: header: unknown column "colour" (the columns are ` + pledgeCols + ")"},
		{"unknown columns", "size,id,nation,colour,capability,quantity,unit,stage,stage_date\n",
			`p.csv:1: header: unknown columns "size", "colour" (the columns are ` + pledgeCols + ")"},
		{"missing required column", "id,nation,capability,quantity,unit,stage\n",
			"p.csv:1: header: missing the required column stage_date"},
		{"missing required columns", "id,nation,capability,unit,stage\n",
			"p.csv:1: header: missing the required columns quantity, stage_date"},
		{"column twice", pledgeHeader + ",nation\n", `p.csv:1: header: column "nation" appears twice`},
		{"header not CSV", "id,\"nation\n", `p.csv:1: header: is not valid CSV: extraneous or missing " in quoted-field`},
		{"required cell", pledgeHeader + "\np1,,land_force,1,battalion,announced,2025-09-04\n", "p.csv:2: pledge p1.nation: is required"},
		{"every required cell", pledgeHeader + "\n,,,,,,x\n", strings.Join([]string{
			"p.csv:2: pledge.id: is required", "p.csv:2: pledge.nation: is required", "p.csv:2: pledge.capability: is required",
			"p.csv:2: pledge.quantity: is required", "p.csv:2: pledge.unit: is required", "p.csv:2: pledge.stage: is required",
			`p.csv:2: pledge.stage_date: want a date such as 2025-09-04 or an RFC 3339 time such as 2025-09-04T10:00:00Z, not "x"`}, "\n")},
		{"bad id", pledgeHeader + "\na b,GBR,land_force,1,battalion,announced,2025-09-04\n",
			`p.csv:2: pledge.id: "a b" is not an id: want 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`},
		{"id too long", pledgeHeader + "\n" + strings.Repeat("x", 65) + ",GBR,land_force,1,battalion,announced,2025-09-04\n",
			`p.csv:2: pledge.id: "` + strings.Repeat("x", 65) + `" is not an id: want 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`},
		{"nation lower case", pledgeHeader + "\np1,gbr,land_force,1,battalion,announced,2025-09-04\n",
			`p.csv:2: pledge p1.nation: "gbr" is not an ISO 3166 alpha-3 code in upper case, such as GBR`},
		{"nation alpha-2", pledgeHeader + "\np1,GB,land_force,1,battalion,announced,2025-09-04\n",
			`p.csv:2: pledge p1.nation: "GB" is not an ISO 3166 alpha-3 code in upper case, such as GBR`},
		{"unknown capability", pledgeHeader + "\np1,GBR,tanks,1,battalion,announced,2025-09-04\n",
			`p.csv:2: pledge p1.capability: unknown capability "tanks" (want one of ` + capList + ")"},
		{"quantity zero", pledgeHeader + "\np1,GBR,land_force,0,battalion,announced,2025-09-04\n", "p.csv:2: pledge p1.quantity: must be above 0, not 0"},
		{"quantity negative", pledgeHeader + "\np1,GBR,land_force,-2,battalion,announced,2025-09-04\n", "p.csv:2: pledge p1.quantity: must be above 0, not -2"},
		{"quantity words", pledgeHeader + "\np1,GBR,land_force,many,battalion,announced,2025-09-04\n",
			`p.csv:2: pledge p1.quantity: want a number such as 12 or 2.5, not "many"`},
		{"quantity NaN", pledgeHeader + "\np1,GBR,land_force,NaN,battalion,announced,2025-09-04\n",
			`p.csv:2: pledge p1.quantity: want a number such as 12 or 2.5, not "NaN"`},
		{"quantity thousands separator", pledgeHeader + "\np1,GBR,funding,\"1,000\",EUR,announced,2025-09-04\n",
			`p.csv:2: pledge p1.quantity: want a number such as 12 or 2.5, not "1,000"`},
		{"quantity too large", pledgeHeader + "\np1,GBR,funding,2e15,EUR,announced,2025-09-04\n", "p.csv:2: pledge p1.quantity: 2e15 is more than 1e15, the limit"},
		{"quantity overflows", pledgeHeader + "\np1,GBR,funding,1e400,EUR,announced,2025-09-04\n", "p.csv:2: pledge p1.quantity: 1e400 is more than 1e15, the limit"},
		{"unit too long", pledgeHeader + "\np1,GBR,land_force,1," + strings.Repeat("u", 41) + ",announced,2025-09-04\n",
			"p.csv:2: pledge p1.unit: is 41 bytes long, more than 40"},
		{"unknown stage", pledgeHeader + "\np1,GBR,land_force,1,battalion,promised,2025-09-04\n",
			`p.csv:2: pledge p1.stage: unknown pledge stage "promised" (want one of proposed, announced, approved, ready, deployed, delivered, withdrawn)`},
		{"day first date", pledgeHeader + "\np1,GBR,land_force,1,battalion,announced,04/09/2025\n",
			`p.csv:2: pledge p1.stage_date: want a date such as 2025-09-04 or an RFC 3339 time such as 2025-09-04T10:00:00Z, not "04/09/2025"`},
		{"no such day", pledgeHeader + "\np1,GBR,land_force,1,battalion,announced,2025-02-30\n",
			`p.csv:2: pledge p1.stage_date: want a date such as 2025-09-04 or an RFC 3339 time such as 2025-09-04T10:00:00Z, not "2025-02-30"`},
		{"contingent maybe", pledgeHeader + ",contingent\n" + ok + ",maybe\n", `p.csv:2: pledge p1.contingent: want yes or no, not "maybe"`},
		{"trigger of a standing pledge", pledgeHeader + ",trigger\n" + ok + ",renewed_aggression\n",
			"p.csv:2: pledge p1.trigger: is for contingent pledges only: set contingent to yes, or leave trigger empty"},
		{"trigger after contingent no", pledgeHeader + ",contingent,trigger\n" + ok + ",no,renewed_aggression\n",
			"p.csv:2: pledge p1.trigger: is for contingent pledges only: set contingent to yes, or leave trigger empty"},
		{"bad trigger", pledgeHeader + ",contingent,trigger\n" + ok + ",yes,Renewed Aggression\n",
			`p.csv:2: pledge p1.trigger: "Renewed Aggression" is not a trigger name: lower-case letters, digits and '_'`},
		{"unknown domain", pledgeHeader + ",caveat_domains\n" + ok + ",air;space\n",
			`p.csv:2: pledge p1.caveat_domains: unknown domain "space" (want one of land, sea, air)`},
		{"domain twice", pledgeHeader + ",caveat_domains\n" + ok + ",air; sea;air\n", "p.csv:2: pledge p1.caveat_domains: names air twice"},
		{"no domain", pledgeHeader + ",caveat_domains\n" + ok + ",;;\n", `p.csv:2: pledge p1.caveat_domains: ";;" names no domain`},
		{"bad region", pledgeHeader + ",caveat_within\n" + ok + ",Adjacent Territory\n",
			`p.csv:2: pledge p1.caveat_within: "Adjacent Territory" is not a region name: lower-case letters, digits and '_'`},
		{"bad requirement", pledgeHeader + ",requirement\n" + ok + ",req/1\n",
			`p.csv:2: pledge p1.requirement: "req/1" is not an id: want 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`},
		{"unknown marking", pledgeHeader + ",marking\n" + ok + ",PURPLE\n",
			`p.csv:2: pledge p1.marking: unknown TLP label "PURPLE" (want one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED)`},
		{"control character", pledgeHeader + ",stage_by\n" + ok + ",a\x07b\n", "p.csv:2: pledge p1.stage_by: holds the control character U+0007"},
		{"line feed in a one-line field", pledgeHeader + ",approval\n" + ok + ",\"Bundes\ntag\"\n", "p.csv:2: pledge p1.approval: holds the control character U+000A"},
		{"not UTF-8", pledgeHeader + ",note\n" + ok + ",\xff\n", "p.csv:2: pledge p1.note: is not valid UTF-8"},
		{"note too long", pledgeHeader + ",note\n" + ok + "," + strings.Repeat("n", 2001) + "\n", "p.csv:2: pledge p1.note: is 2001 bytes long, more than 2000"},
		{"reference too long", pledgeHeader + ",stage_reference\n" + ok + "," + strings.Repeat("r", 501) + "\n",
			"p.csv:2: pledge p1.stage_reference: is 501 bytes long, more than 500"},
		{"later row changes nation", pledgeHeader + "\n" + ok + "\np1,DEU,land_force,1,battalion,approved,2025-10-01\n",
			"p.csv:3: pledge p1.nation: is DEU, but GBR on line 2, where pledge p1 begins"},
		{"later row changes capability and unit", pledgeHeader + "\n" + ok + "\np1,GBR,training,1,personnel,approved,2025-10-01\n",
			"p.csv:3: pledge p1.capability: is training, but land_force on line 2, where pledge p1 begins\n" +
				"p.csv:3: pledge p1.unit: is personnel, but battalion on line 2, where pledge p1 begins"},
		{"too few cells", pledgeHeader + "\np1,GBR,land_force\n", "p.csv:2: pledge: has 3 cells, want 7 as in the header"},
		{"too many cells", pledgeHeader + "\n" + ok + ",x\n", "p.csv:2: pledge: has 8 cells, want 7 as in the header"},
		{"bare quote", pledgeHeader + "\np1,GBR,land_force,1,battalion,announced,2025-09-04 \"x\"\n",
			`p.csv:2: not valid CSV: bare " in non-quoted-field`},
		{"every bad row, lines after a quoted line feed", pledgeHeader + ",note\n" + ok + ",\"two\nlines\"\np2,GBR,land_force,0,battalion,announced,2025-09-04,\n,,,,,,,\np3,XX,land_force,1,battalion,announced,2025-09-04,\n",
			"p.csv:4: pledge p2.quantity: must be above 0, not 0\np.csv:6: pledge p3.nation: \"XX\" is not an ISO 3166 alpha-3 code in upper case, such as GBR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := DecodePledges(strings.NewReader(tc.in), "p.csv")
			if err == nil {
				t.Fatalf("got %d rows and no error, want %q", len(rows), tc.want)
			}
			for _, r := range rows {
				if strings.Contains(tc.want, fmt.Sprintf("p.csv:%d:", r.Line)) {
					t.Errorf("got row %d, which has a problem", r.Line)
				}
			}
			if got := problemsOf(t, err); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestDecodePledges(t *testing.T) {
	in := "\ufeff" + `nation , id,capability,quantity,unit,stage,stage_date,stage_by,stage_reference,requirement,contingent,trigger,approval,caveat,caveat_domains,caveat_within,marking,note
DEU,deu-air-1,air_policing,6,aircraft,announced,2025-11-12,Federal Government,"cabinet decision, 12 November",req-air,,,Bundestag,"Air policing only, from Poland",air,adjacent_territory,,"first, with a comma"
DEU,deu-air-1,air_policing,8,aircraft,approved,2026-01-15T10:30:00+01:00,Bundestag,Bundestag vote 2026/114,,,,,,,,tlp:green,
GBR,gbr-res-1,land_force,1,battalion,approved,2026-01-20,,,req-reserve,YES,,,,,,,
GBR,gbr-res-1,land_force,1,battalion,withdrawn,2026-02-01,,,,no,,,,,,,
FRA,fra-res-1,land_force,2,battalion,announced,2026-01-20,,,,true,other_trigger,,,,,RED,
` + "\r\n, ,,,,,,,,,,,,,,,,\r\n"
	change1 := truce.StageChange{Stage: truce.StageAnnounced, Date: date(2025, 11, 12), By: "Federal Government", Reference: "cabinet decision, 12 November"}
	change2 := truce.StageChange{Stage: truce.StageApproved, Date: time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC), By: "Bundestag", Reference: "Bundestag vote 2026/114"}
	deu := truce.Pledge{ID: "deu-air-1", Nation: "DEU", Capability: truce.CapAirPolicing, Quantity: 6, Unit: "aircraft", Requirement: "req-air",
		Stage: truce.StageAnnounced, History: []truce.StageChange{change1}, Approval: "Bundestag",
		Caveat:  truce.PledgeCaveat{Text: "Air policing only, from Poland", Domains: []truce.Domain{truce.DomainAir}, Within: "adjacent_territory"},
		Marking: truce.Marking{TLP: truce.TLPAmber}, Note: "first, with a comma"}
	deu2 := deu
	deu2.Quantity, deu2.Stage, deu2.History, deu2.Marking = 8, truce.StageApproved, []truce.StageChange{change1, change2}, truce.Marking{TLP: truce.TLPGreen}
	res1 := truce.StageChange{Stage: truce.StageApproved, Date: date(2026, 1, 20)}
	res2 := truce.StageChange{Stage: truce.StageWithdrawn, Date: date(2026, 2, 1)}
	gbr := truce.Pledge{ID: "gbr-res-1", Nation: "GBR", Capability: truce.CapLandForce, Quantity: 1, Unit: "battalion", Requirement: "req-reserve",
		Stage: truce.StageApproved, History: []truce.StageChange{res1}, Contingent: true, Trigger: truce.RenewedAggression, Marking: truce.Marking{TLP: truce.TLPAmber}}
	gbr2 := gbr
	gbr2.Stage, gbr2.History, gbr2.Contingent, gbr2.Trigger = truce.StageWithdrawn, []truce.StageChange{res1, res2}, false, ""
	fraChange := truce.StageChange{Stage: truce.StageAnnounced, Date: date(2026, 1, 20)}
	fra := truce.Pledge{ID: "fra-res-1", Nation: "FRA", Capability: truce.CapLandForce, Quantity: 2, Unit: "battalion",
		Stage: truce.StageAnnounced, History: []truce.StageChange{fraChange}, Contingent: true, Trigger: "other_trigger", Marking: truce.Marking{TLP: truce.TLPRed}}
	want := []PledgeRow{
		{Line: 2, Pledge: deu, Change: change1},
		{Line: 3, Pledge: deu2, Change: change2},
		{Line: 4, Pledge: gbr, Change: res1},
		{Line: 5, Pledge: gbr2, Change: res2},
		{Line: 6, Pledge: fra, Change: fraChange},
	}
	got, err := DecodePledges(strings.NewReader(in), "p.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("row %d:\ngot  %+v\nwant %+v", i, got[i], want[i])
		}
		if err := ValidatePledge(&got[i].Pledge); err != nil {
			t.Errorf("row %d does not validate: %v", i, err)
		}
	}

	// The same file with its columns in another order decodes the same.
	shuffled := shuffleColumns(t, in, []int{17, 3, 1, 16, 0, 15, 2, 14, 4, 13, 5, 12, 6, 11, 7, 10, 8, 9})
	again, err := DecodePledges(strings.NewReader(shuffled), "p.csv")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, got) {
		t.Errorf("with the columns reordered:\ngot  %+v\nwant %+v", again, got)
	}
}

// shuffleColumns rewrites the CSV in with its columns in the order perm.
func shuffleColumns(t *testing.T, in string, perm []int) string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(in, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for _, rec := range recs {
		out := make([]string, len(perm))
		for i, p := range perm {
			out[i] = rec[p]
		}
		w.Write(out)
	}
	w.Flush()
	return b.String()
}

func TestDecodeReturnsGoodRowsWithProblems(t *testing.T) {
	in := pledgeHeader + "\np1,GBR,land_force,1,battalion,announced,2025-09-04\np1,GBR,land_force,1,battalion,approved,someday\n" +
		"p1,GBR,land_force,2,battalion,ready,2025-11-01\np2,GBR,land_force,1,battalion,announced,2025-09-04\n"
	rows, err := DecodePledges(strings.NewReader(in), "p.csv")
	if got, want := problemsOf(t, err), `p.csv:3: pledge p1.stage_date: want a date such as 2025-09-04 or an RFC 3339 time such as 2025-09-04T10:00:00Z, not "someday"`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%d %s %s %g %d", r.Line, r.Pledge.ID, r.Pledge.Stage, r.Pledge.Quantity, len(r.Pledge.History)))
	}
	if want := []string{"2 p1 announced 1 1", "4 p1 ready 2 2", "5 p2 announced 1 1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got rows %q, want %q", got, want)
	}

	rows, err = DecodePledges(strings.NewReader("id,colour\np1,red\n"), "p.csv")
	if rows != nil || err == nil {
		t.Errorf("a bad header: got %v, %v; want no rows and an error", rows, err)
	}
}

func TestDecodePledgesOptionalColumns(t *testing.T) {
	got, err := DecodePledges(strings.NewReader(pledgeHeader+"\np1,GBR,land_force,1.5,battalion,announced,2025-09-04\n"), "p.csv")
	if err != nil {
		t.Fatal(err)
	}
	c := truce.StageChange{Stage: truce.StageAnnounced, Date: date(2025, 9, 4)}
	want := []PledgeRow{{Line: 2, Change: c, Pledge: truce.Pledge{ID: "p1", Nation: "GBR", Capability: truce.CapLandForce, Quantity: 1.5, Unit: "battalion",
		Stage: truce.StageAnnounced, History: []truce.StageChange{c}, Marking: truce.Marking{TLP: truce.TLPAmber}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	got, err = DecodePledges(strings.NewReader(pledgeHeader+"\n"), "p.csv")
	if err != nil || len(got) != 0 {
		t.Errorf("a header alone: got %v, %v; want no rows and no error", got, err)
	}
}

func TestDecodeRequirements(t *testing.T) {
	in := "\ufeffunit,quantity,id,capability,domain,where,from,note,marking\r\n" +
		"battalion,10,req-land,land_force,land,ukraine,2026-04-01,\"Away from the line, outside the keep-out zone\",\r\n" +
		"EUR,6e9,req-fund,funding,,,,,green\r\n"
	got, err := DecodeRequirements(strings.NewReader(in), "r.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := []truce.Requirement{
		{ID: "req-land", Capability: truce.CapLandForce, Quantity: 10, Unit: "battalion", Domain: truce.DomainLand, Where: "ukraine", From: date(2026, 4, 1),
			Note: "Away from the line, outside the keep-out zone", Marking: truce.Marking{TLP: truce.TLPAmber}},
		{ID: "req-fund", Capability: truce.CapFunding, Quantity: 6e9, Unit: "EUR", Marking: truce.Marking{TLP: truce.TLPGreen}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}

	const h = "id,capability,quantity,unit"
	tests := []struct{ name, in, want string }{
		{"unknown column", h + ",region\n", `r.csv:1: header: unknown column "region" (the columns are id, capability, quantity, unit, domain, where, from, note, marking)`},
		{"missing column", "id,capability,quantity\n", "r.csv:1: header: missing the required column unit"},
		{"repeated id", h + "\nr1,isr,1,aircraft\nr1,isr,2,aircraft\n", "r.csv:3: requirement r1.id: r1 is already the id of line 2"},
		{"unknown domain", h + ",domain\nr1,isr,1,aircraft,space\n", `r.csv:2: requirement r1.domain: unknown domain "space" (want one of land, sea, air)`},
		{"bad where", h + ",where\nr1,isr,1,aircraft,Black Sea\n", `r.csv:2: requirement r1.where: "Black Sea" is not a region name: lower-case letters, digits and '_'`},
		{"bad from", h + ",from\nr1,isr,1,aircraft,2026\n",
			`r.csv:2: requirement r1.from: want a date such as 2025-09-04 or an RFC 3339 time such as 2025-09-04T10:00:00Z, not "2026"`},
		{"quantity", h + "\nr1,isr,-1,aircraft\n", "r.csv:2: requirement r1.quantity: must be above 0, not -1"},
		{"capability", h + "\nr1,ships,1,vessel\n", `r.csv:2: requirement r1.capability: unknown capability "ships" (want one of ` + capList + ")"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := DecodeRequirements(strings.NewReader(tc.in), "r.csv")
			if err == nil {
				t.Fatalf("got %+v and no error, want %q", rows, tc.want)
			}
			if got := problemsOf(t, err); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestDecodeSupport(t *testing.T) {
	in := "id,donor,type,item,value_eur,announced,stage,delivered_eur,source,marking\n" +
		"s1,EU,financial,\"Ukraine Facility, 2024-2027\",50000000000,2024-02-29,committed,,\"approximate, after the Kiel Institute\",\n" +
		"s2,DEU,military,Air defence systems,1000000,2025-06-30,allocated,1000000,,AMBER\n"
	got, err := DecodeSupport(strings.NewReader(in), "s.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := []truce.Support{
		{ID: "s1", Donor: "EU", Type: truce.SupportFinancial, Item: "Ukraine Facility, 2024-2027", ValueEUR: 5e10, Announced: date(2024, 2, 29),
			Stage: truce.SupportCommitted, Source: "approximate, after the Kiel Institute", Marking: truce.Marking{TLP: truce.TLPClear}},
		{ID: "s2", Donor: "DEU", Type: truce.SupportMilitary, Item: "Air defence systems", ValueEUR: 1e6, Announced: date(2025, 6, 30),
			Stage: truce.SupportAllocated, DeliveredEUR: 1e6, Marking: truce.Marking{TLP: truce.TLPAmber}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}

	const h = "id,donor,type,item,value_eur,announced,stage"
	tests := []struct{ name, in, want string }{
		{"missing columns", "id,donor,type,item,value_eur\n", "s.csv:1: header: missing the required columns announced, stage"},
		{"donor", h + "\ns1,Germany,military,x,1,2025-01-01,allocated\n",
			`s.csv:2: support s1.donor: "Germany" is not a donor code: an ISO 3166 alpha-3 code such as DEU, or an organisation such as EU`},
		{"type", h + "\ns1,DEU,loans,x,1,2025-01-01,allocated\n",
			`s.csv:2: support s1.type: unknown support type "loans" (want one of military, financial, humanitarian)`},
		{"stage", h + "\ns1,DEU,military,x,1,2025-01-01,delivered\n",
			`s.csv:2: support s1.stage: unknown support stage "delivered" (want one of committed, allocated)`},
		{"item", h + "\ns1,DEU,military,,1,2025-01-01,allocated\n", "s.csv:2: support s1.item: is required"},
		{"value negative", h + "\ns1,DEU,military,x,-1,2025-01-01,allocated\n", "s.csv:2: support s1.value_eur: must not be negative, not -1"},
		{"value missing", h + "\ns1,DEU,military,x,,2025-01-01,allocated\n", "s.csv:2: support s1.value_eur: is required"},
		{"announced missing", h + "\ns1,DEU,military,x,1,,allocated\n", "s.csv:2: support s1.announced: is required"},
		{"delivered more than value", h + ",delivered_eur\ns1,DEU,military,x,100,2025-01-01,allocated,101\n",
			"s.csv:2: support s1.delivered_eur: 101 is more than value_eur, 100"},
		{"delivered negative", h + ",delivered_eur\ns1,DEU,military,x,100,2025-01-01,allocated,-1\n",
			"s.csv:2: support s1.delivered_eur: must not be negative, not -1"},
		{"repeated id", h + "\ns1,DEU,military,x,1,2025-01-01,allocated\ns1,DEU,military,x,1,2025-01-01,allocated\n",
			"s.csv:3: support s1.id: s1 is already the id of line 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := DecodeSupport(strings.NewReader(tc.in), "s.csv")
			if err == nil {
				t.Fatalf("got %+v and no error, want %q", rows, tc.want)
			}
			if got := problemsOf(t, err); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	big := io.MultiReader(strings.NewReader(pledgeHeader+"\n"), bytes.NewReader(bytes.Repeat([]byte{'\n'}, MaxCSVBytes)))
	_, err := DecodePledges(big, "p.csv")
	if got, want := problemsOf(t, err), "p.csv: is larger than 10 MiB, the limit"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	if testing.Short() {
		t.Skip("the row limit reads 100,001 rows")
	}
	var b strings.Builder
	b.WriteString("id,donor,type,item,value_eur,announced,stage\n")
	for i := range MaxCSVRows + 1 {
		fmt.Fprintf(&b, "s%d,DEU,military,x,1,2025-01-01,allocated\n", i)
	}
	_, err = DecodeSupport(strings.NewReader(b.String()), "s.csv")
	if got, want := problemsOf(t, err), "s.csv:100002: more than 100000 rows, the limit; reading stopped here"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDecodeReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := DecodeRequirements(iotest.ErrReader(boom), "r.csv")
	if !errors.Is(err, boom) || errors.Is(err, truce.ErrInvalid) {
		t.Errorf("got %v, want a read error wrapping boom", err)
	}
	if got, want := fmt.Sprint(err), "pledge: read r.csv: boom"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// readExample decodes the example coalition's files.
func readExample(t testing.TB) ([]PledgeRow, []truce.Requirement, []truce.Support) {
	t.Helper()
	open := func(name string) io.Reader {
		b, err := fs.ReadFile(coalition.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.NewReader(b)
	}
	rows, err := DecodePledges(open("pledges.csv"), "pledges.csv")
	if err != nil {
		t.Fatalf("pledges.csv: %v", err)
	}
	reqs, err := DecodeRequirements(open("requirements.csv"), "requirements.csv")
	if err != nil {
		t.Fatalf("requirements.csv: %v", err)
	}
	sup, err := DecodeSupport(open("support.csv"), "support.csv")
	if err != nil {
		t.Fatalf("support.csv: %v", err)
	}
	return rows, reqs, sup
}

func TestCoalitionExample(t *testing.T) {
	rows, reqs, sup := readExample(t)
	nations := map[truce.NationID]bool{}
	pledges := map[string]truce.Pledge{} // as of their last row
	for _, r := range rows {
		nations[r.Pledge.Nation] = true
		pledges[r.Pledge.ID] = r.Pledge
	}
	if len(rows) < 40 || len(rows) > 65 || len(nations) < 30 || len(reqs) < 10 || len(sup) < 15 {
		t.Errorf("got %d pledge rows (%d pledges) of %d nations, %d requirements and %d support records; want 40-65 rows of 30 nations, 10 requirements and 15 records",
			len(rows), len(pledges), len(nations), len(reqs), len(sup))
	}

	gbr := pledges["gbr-land-1"]
	if gbr.Nation != "GBR" || gbr.Quantity != 3 || gbr.Stage != truce.StageReady || len(gbr.History) != 3 ||
		gbr.History[1].Stage != truce.StageApproved || !gbr.History[1].Date.Equal(date(2026, 1, 20)) || gbr.Requirement != "req-land-reassurance" {
		t.Errorf("gbr-land-1: got %+v", gbr)
	}
	deu := pledges["deu-air-1"]
	if deu.Stage != truce.StageAnnounced || deu.Approval != "Bundestag" || deu.Caveat.Within != "adjacent_territory" ||
		!reflect.DeepEqual(deu.Caveat.Domains, []truce.Domain{truce.DomainAir}) || deu.Caveat.Text != "Air policing only, from and over adjacent NATO territory (Poland)" {
		t.Errorf("deu-air-1: got %+v", deu)
	}
	if can := pledges["can-land-r1"]; !can.Contingent || can.Trigger != truce.RenewedAggression {
		t.Errorf("can-land-r1: got contingent %v, trigger %q; want a contingent pledge answering %s", can.Contingent, can.Trigger, truce.RenewedAggression)
	}
	if prt := pledges["prt-escort-1"]; prt.Stage != truce.StageWithdrawn {
		t.Errorf("prt-escort-1: got stage %s, want withdrawn", prt.Stage)
	}
	if reqs[0].ID != "req-land-reassurance" || reqs[0].Quantity != 10 || reqs[0].Where != "ukraine" || reqs[0].Marking.TLP != truce.TLPGreen {
		t.Errorf("requirements[0]: got %+v", reqs[0])
	}
	for _, s := range sup {
		if s.Marking.TLP != truce.TLPClear || !strings.Contains(s.Source, "Kiel Institute") {
			t.Errorf("support %s: got marking %v, source %q; want CLEAR and the tracker named", s.ID, s.Marking, s.Source)
		}
	}
	if s := sup[0]; s.ID != "kiel-usa-mil" || s.Donor != "USA" || s.ValueEUR != 65e9 || s.Type != truce.SupportMilitary {
		t.Errorf("support[0]: got %+v", s)
	}
}

// TestCoalitionExampleGaps imports the example into a Book, as `truce
// pledge import` does, and checks that it shows what it is meant to: gaps
// at stage approved that a what-if widens.
func TestCoalitionExampleGaps(t *testing.T) {
	rows, reqs, _ := readExample(t)
	b := NewBook(Options{})
	for _, r := range reqs {
		if _, err := b.PutRequirement(r, 0, func(truce.Requirement) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	commit := func(truce.Pledge) error { return nil }
	for _, r := range rows {
		var err error
		if len(r.Pledge.History) == 1 {
			pl := r.Pledge
			pl.Stage, pl.History = "", nil
			_, err = b.AddPledge(pl, r.Change, commit)
		} else {
			_, err = b.Advance(r.Pledge.ID, 0, r.Change, r.Pledge.Quantity, commit)
		}
		if err != nil {
			t.Fatalf("pledges.csv:%d: %v", r.Line, err)
		}
	}
	missing := func(q GapQuery) map[string]float64 {
		m := map[string]float64{}
		for _, g := range b.Gaps(q).Requirements {
			m[g.Requirement.ID] = math.Round(g.Missing*100) / 100
		}
		return m
	}
	approved := missing(GapQuery{Stage: truce.StageApproved})
	withoutGBR := missing(GapQuery{Stage: truce.StageApproved, Without: []truce.NationID{"GBR"}})
	withoutFRA := missing(GapQuery{Stage: truce.StageApproved, Without: []truce.NationID{"FRA"}})
	tests := []struct {
		req                string
		approved, gbr, fra float64
	}{
		{"req-land-reassurance", 2, 5, 5},
		{"req-land-reserve", 4, 4, 4}, // contingent: counts once activated
		{"req-air-policing", 8, 14, 14},
		{"req-black-sea-mcm", 1, 3, 1},
		{"req-black-sea-escort", 4, 4, 5},
		{"req-isr", 5, 7, 5},
		{"req-air-defence", 5, 5, 6},
		{"req-training", 250, 850, 250},
		{"req-logistics-hub", 1, 1, 1},
		{"req-funding", 640e6, 1640e6, 640e6},
	}
	for _, tc := range tests {
		if approved[tc.req] != tc.approved || withoutGBR[tc.req] != tc.gbr || withoutFRA[tc.req] != tc.fra {
			t.Errorf("%s missing at approved: got %g, without GBR %g, without FRA %g; want %g, %g, %g",
				tc.req, approved[tc.req], withoutGBR[tc.req], withoutFRA[tc.req], tc.approved, tc.gbr, tc.fra)
		}
	}
	// At stage announced the German pledges count, unless caveats hold:
	// they stay within adjacent_territory, the requirements are in ukraine.
	announced := missing(GapQuery{Stage: truce.StageAnnounced})
	held := missing(GapQuery{Stage: truce.StageAnnounced, CaveatsHold: true})
	for _, tc := range []struct {
		req             string
		announced, held float64
	}{{"req-air-policing", 2, 8}, {"req-air-defence", 2, 4}, {"req-land-reassurance", 0, 0}} {
		if announced[tc.req] != tc.announced || held[tc.req] != tc.held {
			t.Errorf("%s missing at announced: got %g, caveats held %g; want %g, %g", tc.req, announced[tc.req], held[tc.req], tc.announced, tc.held)
		}
	}
	if len(approved) != len(tests) {
		t.Errorf("got %d requirements, want %d", len(approved), len(tests))
	}
}

// The fuzz targets check, for any input, that a decoder does not panic,
// returns either records or truce.Problems (each naming the file), that
// every record passes the Book's validation, and that writing the records
// out again and decoding them gives the same records. Run one with
//
//	go test -run '^$' -fuzz '^FuzzDecodePledges$' -fuzztime 15s ./internal/pledge
//
// and keep what it finds in testdata/fuzz/FuzzDecodePledges.

func FuzzDecodePledges(f *testing.F) {
	fuzzSeeds(f, "pledges.csv",
		pledgeHeader+"\np1,GBR,land_force,1,battalion,announced,2025-09-04\np1,GBR,land_force,2,battalion,approved,2025-10-01T12:00:00+02:00\n",
		"\ufeffid,nation,capability,quantity,unit,stage,stage_date,contingent,trigger,caveat_domains,caveat_within,marking,note\r\np,DEU,air_policing,1e15,aircraft,proposed,2025-09-04,yes,,air;sea,adjacent_territory,tlp:red,\"a\nb\"\r\np,DEU,air_policing,0.5,aircraft,withdrawn,2025-09-05,no,,,,,\r\n",
		pledgeHeader+",trigger\np1,GBR,land_force,NaN,battalion,announced,2025-09-04,x\n\"p2,\n")
	f.Fuzz(func(t *testing.T, in []byte) {
		rows, err := DecodePledges(bytes.NewReader(in), "p.csv")
		checkDecodeErr(t, "p.csv", err)
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Write(pledgeColumns)
		for _, r := range rows {
			if err := ValidatePledge(&r.Pledge); err != nil {
				t.Fatalf("line %d: decoded %+v does not validate: %v", r.Line, r.Pledge, err)
			}
			if last := r.Pledge.History[len(r.Pledge.History)-1]; r.Pledge.Stage != r.Change.Stage || !reflect.DeepEqual(last, r.Change) {
				t.Fatalf("line %d: stage %s, last change %+v, change %+v", r.Line, r.Pledge.Stage, last, r.Change)
			}
			p, c := r.Pledge, r.Change
			domains := make([]string, len(p.Caveat.Domains))
			for i, d := range p.Caveat.Domains {
				domains[i] = string(d)
			}
			w.Write([]string{p.ID, string(p.Nation), string(p.Capability), fmtNumber(p.Quantity), p.Unit, string(c.Stage), c.Date.Format(time.RFC3339Nano),
				c.By, c.Reference, p.Requirement, strconv.FormatBool(p.Contingent), p.Trigger, p.Approval, p.Caveat.Text, strings.Join(domains, ";"),
				p.Caveat.Within, string(p.Marking.TLP), p.Note})
		}
		w.Flush()
		again, err := DecodePledges(&b, "again.csv")
		if err != nil {
			t.Fatalf("decoding the decoded rows: %v", err)
		}
		for i := range rows {
			rows[i].Line, again[i].Line = 0, 0 // multi-line cells move rows
		}
		if !reflect.DeepEqual(again, rows) {
			t.Fatalf("round trip:\ngot  %+v\nwant %+v", again, rows)
		}
	})
}

func FuzzDecodeRequirements(f *testing.F) {
	fuzzSeeds(f, "requirements.csv",
		"id,capability,quantity,unit\nr,isr,1,aircraft\nr,isr,1,aircraft\n",
		"\ufeffnote,marking,id,capability,quantity,unit,domain,where,from\n\"x,\"\"y\"\"\",AMBER+STRICT,r.1,funding,0x1p10,EUR,sea,black_sea,2026-01-01T00:00:00.5Z\n")
	f.Fuzz(func(t *testing.T, in []byte) {
		reqs, err := DecodeRequirements(bytes.NewReader(in), "r.csv")
		checkDecodeErr(t, "r.csv", err)
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Write(requirementColumns)
		for _, r := range reqs {
			if err := ValidateRequirement(&r); err != nil {
				t.Fatalf("decoded %+v does not validate: %v", r, err)
			}
			from := ""
			if !r.From.IsZero() {
				from = r.From.Format(time.RFC3339Nano)
			}
			w.Write([]string{r.ID, string(r.Capability), fmtNumber(r.Quantity), r.Unit, string(r.Domain), r.Where, from, r.Note, string(r.Marking.TLP)})
		}
		w.Flush()
		again, err := DecodeRequirements(&b, "again.csv")
		if err != nil || !reflect.DeepEqual(again, reqs) {
			t.Fatalf("round trip: got %+v, %v; want %+v", again, err, reqs)
		}
	})
}

func FuzzDecodeSupport(f *testing.F) {
	fuzzSeeds(f, "support.csv",
		"id,donor,type,item,value_eur,announced,stage,delivered_eur\ns,EU,financial,x,0,2025-01-01,committed,0\ns2,USA,military,\"a, b\",1e9,2025-01-01T10:00:00-05:00,allocated,5e8\n",
		"id,donor,type,item,value_eur,announced,stage,source,marking\ns,DEU,military,x,-0,2025-01-01,allocated,\"\",clear\ns,DEU,military,x,1,2025-01-01,allocated,,\n")
	f.Fuzz(func(t *testing.T, in []byte) {
		sup, err := DecodeSupport(bytes.NewReader(in), "s.csv")
		checkDecodeErr(t, "s.csv", err)
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Write(supportColumns)
		for _, s := range sup {
			if err := ValidateSupport(&s); err != nil {
				t.Fatalf("decoded %+v does not validate: %v", s, err)
			}
			w.Write([]string{s.ID, string(s.Donor), string(s.Type), s.Item, fmtNumber(s.ValueEUR), s.Announced.Format(time.RFC3339Nano), string(s.Stage),
				fmtNumber(s.DeliveredEUR), s.Source, string(s.Marking.TLP)})
		}
		w.Flush()
		again, err := DecodeSupport(&b, "again.csv")
		if err != nil || !reflect.DeepEqual(again, sup) {
			t.Fatalf("round trip: got %+v, %v; want %+v", again, err, sup)
		}
	})
}

// fuzzSeeds adds the example file name and the inputs in to f.
func fuzzSeeds(f *testing.F, example string, in ...string) {
	b, err := fs.ReadFile(coalition.FS, example)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{})
	for _, s := range in {
		f.Add([]byte(s))
	}
}

// checkDecodeErr checks that a decoder's error is nil or truce.Problems,
// each naming the file and giving a reason.
func checkDecodeErr(t *testing.T, file string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var probs truce.Problems
	if !errors.As(err, &probs) || len(probs) == 0 {
		t.Fatalf("got error %v (%T), want truce.Problems", err, err)
	}
	for _, p := range probs {
		if !strings.HasPrefix(p.Where, file) || p.Reason == "" {
			t.Fatalf("problem %+v does not name the file or has no reason", p)
		}
	}
}

func fmtNumber(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
