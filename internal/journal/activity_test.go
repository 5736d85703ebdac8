package journal

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gowebpki/jcs"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

func randomActivity(r *rand.Rand, i int) truce.Activity {
	pt := func() geo.Point { return geo.Pt(44+r.Float64()*8, 22+r.Float64()*16) }
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(1e12)) * time.Microsecond)
	a := truce.Activity{ID: fmt.Sprintf("act-%d", i), Nation: "GBR", Unit: "RAF \"Rivet\" 1\n", Domain: truce.DomainAir, Kind: truce.ActivityFlight,
		Priority: r.IntN(10), State: truce.ActivityAccepted, Version: 1 + r.IntN(5), Note: []string{"", "tanker orbit <north>"}[r.IntN(2)]}
	for k := range 1 + r.IntN(3) {
		v := truce.Volume{MinAlt: -10 + r.Float64()*5000, Period: truce.TimeRange{From: t0, Until: t0.Add(time.Hour)}}
		v.MaxAlt = v.MinAlt + r.Float64()*1000
		switch k % 3 {
		case 0:
			v.Footprint.Circle = &geo.Cap{Center: pt(), Radius: r.Float64() * 9000}
		case 1:
			v.Footprint.Path, v.Footprint.HalfWidth = []geo.Point{pt(), pt()}, r.Float64()*2000
		default:
			v.Footprint.Polygon = geo.Ring{pt(), pt(), pt()}
		}
		a.Volumes = append(a.Volumes, v)
	}
	if r.IntN(2) == 0 {
		a.Conflicts = []truce.Conflict{{Kind: truce.ConflictActivity, Volume: 0, With: "act-9", WithVolume: 2, Blocking: true, Rule: "higher_priority",
			Where: pt(), Distance: r.Float64() * 100, When: truce.TimeRange{From: t0, Until: t0.Add(time.Minute)}, MinAlt: 10, MaxAlt: 20.5}}
	}
	return a.Canonical()
}

// TestActivityKindsRoundTrip: the deconfliction kinds encode in RFC 8785
// form (checked by an independent implementation) and decode to what was
// encoded.
func TestActivityKindsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 500 {
		act := randomActivity(r, i)
		pos := truce.Position{Unit: "u1", Nation: "FRA", Domain: truce.DomainSea, Time: time.UnixMicro(r.Int64N(2e15)).UTC(), Point: geo.Pt(45.1234567, 31.7654321), Alt: -2.5}
		alert := truce.TrackAlert{Kind: truce.AlertProximity, Unit: "u1", Nation: "FRA", Time: pos.Time, Point: pos.Point, Other: "u2", Distance: 812.25}
		for _, e := range []Entry{
			{Seq: uint64(i + 1), Time: pos.Time, Kind: KindActivity, Org: "GBR", Activity: &act},
			{Seq: uint64(i + 1), Time: pos.Time, Kind: KindTracks, Org: "FRA", Tracks: []truce.Position{pos, pos}},
			{Seq: uint64(i + 1), Time: pos.Time, Kind: KindTrackAlert, Org: "coalition", Alert: &alert},
		} {
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
				t.Fatalf("%s: round trip:\n got %+v\nwant %+v", e.Kind, got, e)
			}
		}
	}
}

func TestActivityKindsRejects(t *testing.T) {
	for _, e := range []Entry{
		{Kind: KindActivity},
		{Kind: KindTracks},
		{Kind: KindTrackAlert},
	} {
		if _, err := Encode(nil, &e); err == nil {
			t.Errorf("%s without a body encoded", e.Kind)
		}
	}
	a := randomActivity(rand.New(rand.NewPCG(1, 2)), 1)
	b, err := Encode(nil, &Entry{Seq: 1, Time: time.UnixMicro(1e15).UTC(), Kind: KindActivity, Activity: &a})
	if err != nil {
		t.Fatal(err)
	}
	// A field out of place, and a body under the wrong kind.
	for _, bad := range [][]byte{
		bytes.Replace(b, []byte(`"kind":"activity"`), []byte(`"kind":"tracks"`), 1),
		bytes.Replace(b, []byte(`"version":`), []byte(`"version":0,"x":`), 1),
	} {
		if _, err := Decode(bad); err == nil {
			t.Errorf("decoded %s", bad)
		}
	}
	if k1, k2 := activityKey(&a), func() Key { a.Version++; return activityKey(&a) }(); k1 == k2 {
		t.Error("two versions of one activity share a key")
	}
	if m := (&Entry{Kind: KindTracks}).Marking(); m.TLP != truce.TLPAmber {
		t.Errorf("tracks marking %v, want AMBER", m)
	}
}

// TestActivitySeeds keeps a seed of each kind in FuzzDecode's corpus.
func TestActivitySeeds(t *testing.T) {
	a := randomActivity(rand.New(rand.NewPCG(3, 3)), 3)
	for name, e := range map[string]Entry{
		"activity": {Seq: 4, Time: time.UnixMicro(1e15).UTC(), Kind: KindActivity, Org: "GBR", Activity: &a},
		"tracks":   {Seq: 5, Time: time.UnixMicro(1e15).UTC(), Kind: KindTracks, Org: "GBR", Tracks: []truce.Position{{Unit: "u", Nation: "GBR", Domain: truce.DomainAir, Time: time.UnixMicro(1), Point: geo.Pt(1, 2), Alt: 3}}},
		"pledge": {Seq: 6, Time: time.UnixMicro(1e15).UTC(), Kind: KindPledge, Org: "DEU", Pledge: &truce.Pledge{ID: "deu-1", Nation: "DEU", Capability: truce.CapAirPolicing,
			Quantity: 6, Unit: "aircraft", Stage: truce.StageApproved, Approval: "Bundestag", Contingent: true, Trigger: truce.RenewedAggression,
			History: []truce.StageChange{{Stage: "announced", Date: time.UnixMicro(1e15).UTC()}, {Stage: "approved", Date: time.UnixMicro(2e15).UTC(), By: "Bundestag", Reference: "vote"}},
			Caveat:  truce.PledgeCaveat{Domains: []truce.Domain{"air"}}, Marking: truce.Marking{TLP: truce.TLPAmber}, Version: 2}},
		"support": {Seq: 7, Time: time.UnixMicro(1e15).UTC(), Kind: KindSupport, Org: "coalition", Support: &truce.Support{ID: "s", Donor: "EU", Type: truce.SupportFinancial,
			Item: "loan", ValueEUR: 1e9, Announced: time.UnixMicro(1e15).UTC(), Stage: truce.SupportCommitted, Marking: truce.Marking{TLP: truce.TLPClear}}},
	} {
		b, err := Encode(nil, &e)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		f := filepath.Join("testdata", "fuzz", "FuzzDecode", name)
		got, err := os.ReadFile(f)
		if err != nil || string(got) != want {
			if os.Getenv("TRUCE_UPDATE_SEEDS") != "" {
				if err := os.WriteFile(f, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			t.Errorf("%s is not the current encoding of the %s seed; run with TRUCE_UPDATE_SEEDS=1", f, name)
		}
	}
}
