package fuse

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

var base = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// genInputs draws observations clustered in space (a few events within
// about 10 km) and time (within 20 min): point reports, observer bearings
// aimed at an event with some error, party claims, and a few outliers.
func genInputs(t *rapid.T) []Input {
	center := geo.Pt(48+rapid.Float64Range(-0.5, 0.5).Draw(t, "lat"), 37.5+rapid.Float64Range(-1, 1).Draw(t, "lon"))
	nEvents := rapid.IntRange(1, 6).Draw(t, "events")
	type event struct {
		at  geo.Point
		t   time.Time
		cat truce.Category
	}
	cats := []truce.Category{truce.CategoryExplosion, truce.CategoryImpact, truce.CategoryOutgoingFire, truce.CategoryDamage, truce.CategoryBurst, truce.CategoryWeaponSighting, truce.CategoryCasualty}
	events := make([]event, nEvents)
	for i := range events {
		events[i] = event{
			at:  geo.Destination(center, rapid.Float64Range(0, 360).Draw(t, "dir"), rapid.Float64Range(0, 8000).Draw(t, "off")),
			t:   base.Add(time.Duration(rapid.Int64Range(0, int64(20*time.Minute)).Draw(t, "t"))).Round(time.Second),
			cat: rapid.SampledFrom(cats).Draw(t, "cat"),
		}
	}
	methods := []truce.Method{truce.MethodAcoustic, truce.MethodHeard, truce.MethodSeen, truce.MethodUAV, truce.MethodPartyReport, truce.MethodCamera, truce.MethodOSINT}
	orgs := []truce.OrgID{"osce", "coalition", "UA", "RU"}
	weapons := []truce.WeaponClass{"", "", "", truce.WeaponMortar, truce.WeaponMLRS}
	n := rapid.IntRange(1, 40).Draw(t, "n")
	inputs := make([]Input, n)
	for i := range inputs {
		ev := events[rapid.IntRange(0, nEvents-1).Draw(t, "event")]
		m := rapid.SampledFrom(methods).Draw(t, "method")
		org := rapid.SampledFrom(orgs).Draw(t, "org")
		o := truce.Observation{
			Source:          fmt.Sprintf("src-%d", rapid.IntRange(0, 3).Draw(t, "source")),
			SourceID:        fmt.Sprintf("r%d", i),
			Method:          m,
			Category:        ev.cat,
			Weapon:          rapid.SampledFrom(weapons).Draw(t, "weapon"),
			Count:           rapid.IntRange(1, 5).Draw(t, "count"),
			Time:            ev.t.Add(time.Duration(rapid.Int64Range(-90, 90).Draw(t, "dt")) * time.Second),
			TimeUncertainty: time.Duration(rapid.Int64Range(0, 60).Draw(t, "u")) * time.Second,
			Reliability:     truce.Reliability('A' + rapid.IntRange(0, 5).Draw(t, "rel")),
			Credibility:     truce.Credibility(rapid.IntRange(1, 6).Draw(t, "cred")),
			Marking:         truce.Marking{TLP: truce.TLPGreen},
		}
		if rapid.IntRange(0, 9).Draw(t, "othercat") == 0 {
			o.Category = rapid.SampledFrom(cats).Draw(t, "cat2")
		}
		if m == truce.MethodPartyReport || rapid.IntRange(0, 9).Draw(t, "claim") == 0 {
			o.Party = truce.PartyID(rapid.SampledFrom([]string{"UA", "RU"}).Draw(t, "party"))
			if rapid.Bool().Draw(t, "unnamed") && m == truce.MethodPartyReport {
				o.Party = ""
			}
		}
		if rapid.IntRange(0, 4).Draw(t, "hasfire") == 0 {
			o.FireBearing, o.HasFireBearing = rapid.Float64Range(0, 360).Draw(t, "fire"), true
		}
		if (m == truce.MethodHeard || m == truce.MethodSeen) && rapid.IntRange(0, 2).Draw(t, "bearing") > 0 {
			d := rapid.Float64Range(1000, 7000).Draw(t, "dist")
			obs := geo.Destination(ev.at, rapid.Float64Range(0, 360).Draw(t, "from"), d)
			b := geo.Bearing(obs, ev.at) + rapid.Float64Range(-8, 8).Draw(t, "berr")
			if b < 0 {
				b += 360
			}
			if b >= 360 {
				b -= 360
			}
			band := rapid.Float64Range(0, 4000).Draw(t, "band")
			lo := max(0, d+rapid.Float64Range(-1500, 1500).Draw(t, "bandoff")-band/2)
			o.Observer = &truce.Observer{Point: obs, Bearing: b, DistanceMin: lo, DistanceMax: lo + band}
		} else {
			at := geo.Destination(ev.at, rapid.Float64Range(0, 360).Draw(t, "errdir"), rapid.Float64Range(0, 600).Draw(t, "err"))
			o.Location = &truce.Location{Point: at, CEP: rapid.Float64Range(1, 1500).Draw(t, "cep")}
		}
		inputs[i] = Input{ID: uint64(i + 1), Org: org, Observation: o.Canonical()}
	}
	return inputs
}

// genWeakInputs draws strong reports in a row of clusters 0.8 to 2.5 km
// apart (each cluster an incident of its own, unless a bridging report
// links two), and weak reports (party claims, open sources, reports with a
// party set) with CEPs of kilometres, each compatible with several of
// those incidents: in a random order of arrival, the weak reports join
// one, then move as reports of better rank or bridges arrive.
func genWeakInputs(t *rapid.T) []Input {
	start := geo.Pt(48+rapid.Float64Range(-0.5, 0.5).Draw(t, "lat"), 37.5+rapid.Float64Range(-1, 1).Draw(t, "lon"))
	dir := rapid.Float64Range(0, 360).Draw(t, "dir")
	nc := rapid.IntRange(2, 5).Draw(t, "clusters")
	at := make([]geo.Point, nc)
	d := 0.0
	for i := range at {
		at[i] = geo.Destination(start, dir, d)
		d += rapid.Float64Range(800, 2500).Draw(t, "spacing")
	}
	cats := []truce.Category{truce.CategoryExplosion, truce.CategoryImpact, truce.CategoryDamage}
	n := rapid.IntRange(2, 30).Draw(t, "n")
	inputs := make([]Input, n)
	for i := range inputs {
		c := rapid.IntRange(0, nc-1).Draw(t, "cluster")
		o := truce.Observation{
			Source:      fmt.Sprintf("src-%d", rapid.IntRange(0, 5).Draw(t, "source")),
			SourceID:    fmt.Sprintf("w%d", i),
			Category:    rapid.SampledFrom(cats).Draw(t, "cat"),
			Count:       1,
			Time:        base.Add(time.Duration(rapid.Int64Range(0, 120).Draw(t, "t")) * time.Second),
			Reliability: truce.Reliability('A' + rapid.IntRange(0, 5).Draw(t, "rel")),
			Credibility: truce.Credibility(rapid.IntRange(1, 6).Draw(t, "cred")),
			Marking:     truce.Marking{TLP: truce.TLPGreen},
		}
		org := rapid.SampledFrom([]truce.OrgID{"osce", "coalition"}).Draw(t, "org")
		p, cep := at[c], 0.0
		switch kind := rapid.IntRange(0, 9).Draw(t, "kind"); {
		case kind < 5: // a monitor's report of the cluster's event
			o.Method = rapid.SampledFrom([]truce.Method{truce.MethodSeen, truce.MethodHeard, truce.MethodUAV}).Draw(t, "method")
			p = geo.Destination(p, rapid.Float64Range(0, 360).Draw(t, "errdir"), rapid.Float64Range(0, 100).Draw(t, "err"))
			cep = rapid.Float64Range(20, 150).Draw(t, "cep")
		case kind < 6 && c+1 < nc: // a bridge half-way to the next cluster
			o.Method = truce.MethodSeen
			p = geo.Destination(p, geo.Bearing(p, at[c+1]), geo.Distance(p, at[c+1])/2)
			cep = rapid.Float64Range(100, 700).Draw(t, "cep")
		default: // a weak report over several clusters
			o.Method = rapid.SampledFrom([]truce.Method{truce.MethodPartyReport, truce.MethodOSINT, truce.MethodSeen}).Draw(t, "weak")
			if o.Method != truce.MethodOSINT {
				party := rapid.SampledFrom([]truce.PartyID{"UA", "RU"}).Draw(t, "party")
				o.Party, org = party, truce.OrgID(party)
			}
			o.Time = o.Time.Add(time.Duration(rapid.Int64Range(0, 30).Draw(t, "late")) * time.Minute)
			o.TimeUncertainty = time.Duration(rapid.Int64Range(0, 30).Draw(t, "u")) * time.Minute
			p = geo.Destination(p, rapid.Float64Range(0, 360).Draw(t, "errdir"), rapid.Float64Range(0, 1500).Draw(t, "err"))
			cep = rapid.Float64Range(300, 4000).Draw(t, "cep")
		}
		o.Location = &truce.Location{Point: p, CEP: cep}
		inputs[i] = Input{ID: uint64(i + 1), Org: org, Observation: o.Canonical()}
	}
	return inputs
}

// TestOrderIndependence feeds random clustered observations to Engine.Add
// in two random orders and to Fuse, and wants the same incidents to the bit.
func TestOrderIndependence(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { checkOrders(t, genInputs(t)) })
}

// TestOrderIndependenceWeak does the same with weak reports compatible
// with several incidents, which join one and move as strong reports and
// bridges arrive.
func TestOrderIndependenceWeak(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { checkOrders(t, genWeakInputs(t)) })
}

func checkOrders(t *rapid.T, inputs []Input) {
	cfg := DefaultConfig()
	cfg.Horizon = 0
	want := Fuse(cfg, inputs)
	for _, run := range []string{"first", "second"} {
		order := rapid.Permutation(inputs).Draw(t, run)
		e := New(cfg)
		e.bigAt = int32(rapid.SampledFrom([]int{2, 3, bigAt}).Draw(t, run+" bigAt"))
		alive := map[string]truce.Incident{} // the last state Add returned, by id
		for _, in := range order {
			changed, gone := e.Add(in)
			if !slices.ContainsFunc(changed[0].Observations, func(r truce.ObservationRef) bool { return r.ID == in.ID }) {
				t.Fatalf("%s order: add %d: the first incident returned does not hold it", run, in.ID)
			}
			for _, id := range gone {
				if _, ok := alive[id]; !ok {
					t.Fatalf("%s order: add %d: gone %s was never returned", run, in.ID, id)
				}
				delete(alive, id)
			}
			for _, c := range changed {
				alive[c.ID] = c
			}
		}
		got := e.Incidents()
		if d := diffIncidents(got, want); d != "" {
			t.Fatalf("%s order against Fuse: %s", run, d)
		}
		var last []truce.Incident
		for _, in := range alive {
			last = append(last, in)
		}
		slices.SortFunc(last, func(a, b truce.Incident) int { return cmpString(a.ID, b.ID) })
		if d := diffIncidents(last, got); d != "" {
			t.Fatalf("%s order: what Add returned against the final incidents: %s", run, d)
		}
		if e.Len() != len(inputs) {
			t.Fatalf("%s order: got Len %d, want %d", run, e.Len(), len(inputs))
		}
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
