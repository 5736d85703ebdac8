package journal

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/gowebpki/jcs"

	"github.com/truce-dev/truce/internal/truce"
)

// TestPledgeKindsRoundTrip: the commitments' kinds encode in RFC 8785 form
// (checked by an independent implementation) and decode to what was
// encoded, with their optional parts present and absent.
func TestPledgeKindsRoundTrip(t *testing.T) {
	at := time.Date(2026, 9, 4, 10, 30, 0, 123456000, time.UTC)
	amber := truce.Marking{TLP: truce.TLPAmber, RelTo: []truce.OrgID{"UA"}}
	full := truce.Pledge{ID: "deu-air-1", Nation: "DEU", Capability: truce.CapAirPolicing, Quantity: 6.5, Unit: "aircraft", Requirement: "air",
		Stage: truce.StageApproved, History: []truce.StageChange{{Stage: "announced", Date: at, By: "Chancellor"}, {Stage: "approved", Date: at.Add(240 * time.Hour), By: "Bundestag", Reference: "vote 21/114 \"yes\""}},
		Approval: "Bundestag", Caveat: truce.PledgeCaveat{Text: "from Polish territory", Domains: []truce.Domain{"air"}, Within: "adjacent_territory"},
		Contingent: true, Trigger: truce.RenewedAggression, Marking: amber, Note: "n", Version: 2}
	bare := truce.Pledge{ID: "x", Nation: "FRA", Capability: truce.CapFunding, Quantity: 1e9, Unit: "EUR", Stage: "proposed",
		History: []truce.StageChange{{Stage: "proposed", Date: at}}, Marking: truce.Marking{TLP: truce.TLPRed}, Version: 1}
	req := truce.Requirement{ID: "air", Capability: truce.CapAirPolicing, Quantity: 12, Unit: "aircraft", Domain: "air", Where: "ukraine", From: at, Note: "n", Marking: amber, Version: 3}
	bareReq := truce.Requirement{ID: "r", Capability: truce.CapISR, Quantity: 0.001, Unit: "orbit", Marking: amber, Version: 1}
	act := truce.Activation{ID: "nld@x", Pledge: "nld", Nation: "NLD", Trigger: truce.RenewedAggression, At: at, Due: at.Add(12 * time.Hour)}
	acked := act
	acked.AckAt, acked.AckBy = at.Add(time.Hour), "NLD"
	sup := truce.Support{ID: "s1", Donor: "EU", Type: truce.SupportFinancial, Item: "Ukraine Facility tranche", ValueEUR: 4.5e9, Announced: at, Stage: truce.SupportCommitted,
		DeliveredEUR: 1234567.89, Source: "approximate, after the Kiel Institute tracker", Marking: truce.Marking{TLP: truce.TLPClear}}
	for _, e := range []Entry{
		{Kind: KindPledge, Pledge: &full}, {Kind: KindPledge, Pledge: &bare},
		{Kind: KindRequirement, Requirement: &req}, {Kind: KindRequirement, Requirement: &bareReq},
		{Kind: KindActivation, Activation: &act}, {Kind: KindActivation, Activation: &acked},
		{Kind: KindSupport, Support: &sup},
	} {
		e.Seq, e.Time, e.Org = 9, at.Truncate(time.Microsecond), "secretariat"
		b, err := Encode(nil, &e)
		if err != nil {
			t.Fatalf("%s: %v", e.Kind, err)
		}
		if c, err := jcs.Transform(b); err != nil || !bytes.Equal(c, b) {
			t.Fatalf("%s: not canonical:\n%s\n%s (%v)", e.Kind, b, c, err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: decode: %v\n%s", e.Kind, err, b)
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("%s: round trip:\n got %+v\nwant %+v\n%s", e.Kind, got, e, b)
		}
	}
	if _, err := Encode(nil, &Entry{Kind: KindPledge}); err == nil {
		t.Error("a pledge entry without a pledge encoded")
	}
	if k1, k2 := activationKey(&act), activationKey(&acked); k1 == k2 {
		t.Error("raising and acknowledging an activation share a key")
	}
	if m := (&Entry{Kind: KindSupport, Support: &sup}).Marking(); m.TLP != truce.TLPClear {
		t.Errorf("support marking %v, want its own", m)
	}
}
