package engine

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/truce"
)

// TestEvening runs one evening through the whole engine, on the simple
// agreement (the line along the 36th meridian, UA west, RU east; sector
// "north" above 48N; one escalation window of 1 h with TENSE at 2, SERIOUS
// at 6, CRITICAL at 15; weights medium 2, high 5, critical 10), and checks
// what was worked out by hand:
//
//   - 19:00 three patrols on UA's side hear explosions at E = 48.5N
//     36.05E, 3.7 km east of the line. Bearings and distances from each
//     patrol to E by the spherical formulas: (48.52N 35.98E) 113.3° 5.6 km,
//     (48.47N 35.99E) 53.0° 5.5 km, (48.50N 35.96E) 90.0° 6.6 km. One
//     incident near E; a ceasefire violation, undetermined (no origin, no
//     direction of fire), medium: the north scores 2, TENSE at 19:00.
//   - 19:10 a UAV sees an MLRS 30 km east of the line (48.3N, 36.4056E:
//     asin(sin(30 km/R)/cos 48.3°) = 0.4056° of longitude), inside RU's
//     35 km MLRS withdrawal band: RU, high (MLRS). 2 + 5 = 7: SERIOUS at
//     19:10. Another MLRS 40 km east (36.5408E) is outside the band: no
//     violation.
//   - 19:30 an acoustic sensor locates an impact at 48.205N 36.105E, 668 m
//     from the pumping station (48.2N 36.1E, radius 3 km), with fire from
//     270°: due west, it crosses the line at 36E, 7.8 km away, so the fire
//     came from UA's side. An acknowledged window of silence around the
//     station runs 19:00 to 21:00. Three violations, all UA's: ceasefire
//     (medium, 2), protected site (high, 5), window of silence (critical,
//     10). 7 + 17 = 24: CRITICAL at 19:30.
//   - One sector at CRITICAL of the two the trigger needs: no trigger.
func TestEvening(t *testing.T) {
	a := simpleAgreement(t)
	at := func(hm string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04:05", "2026-06-01 "+hm)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	window := truce.SilenceWindow{ID: "w1", Name: "pump repair", Center: geo.Pt(48.2, 36.1), Radius: 2000,
		Period: truce.TimeRange{From: at("19:00:00"), Until: at("21:00:00")}, Acknowledged: true}
	e, err := New(Config{Agreement: a, Windows: []truce.SilenceWindow{window}})
	if err != nil {
		t.Fatal(err)
	}
	green := truce.Marking{TLP: truce.TLPGreen}
	heard := func(id string, when string, lat, lon, bearing, dmin, dmax float64) truce.Observation {
		return truce.Observation{Source: "patrol-" + id, SourceID: "1", Method: truce.MethodHeard, Category: truce.CategoryExplosion, Count: 2,
			Time: at(when), TimeUncertainty: 30 * time.Second, Reliability: 'B', Credibility: 2, Marking: green,
			Observer: &truce.Observer{Point: geo.Pt(lat, lon), Bearing: bearing, DistanceMin: dmin, DistanceMax: dmax}}
	}
	located := func(src, when string, cat truce.Category, w truce.WeaponClass, lat, lon, cep float64) truce.Observation {
		return truce.Observation{Source: src, SourceID: "1", Method: truce.MethodUAV, Category: cat, Weapon: w, Count: 1,
			Time: at(when), Reliability: 'B', Credibility: 2, Marking: green,
			Location: &truce.Location{Point: geo.Pt(lat, lon), CEP: cep}}
	}
	impact := located("acoustic-9", "19:30:00", truce.CategoryImpact, "", 48.205, 36.105, 50)
	impact.Method, impact.FireBearing, impact.HasFireBearing = truce.MethodAcoustic, 270, true
	obs := []truce.Observation{
		heard("1", "19:00:00", 48.52, 35.98, 113.3, 4000, 7000),
		heard("2", "19:00:30", 48.47, 35.99, 52.95, 4000, 7000),
		heard("3", "19:01:00", 48.50, 35.96, 89.97, 5000, 8000),
		located("uav-1", "19:10:00", truce.CategoryWeaponSighting, truce.WeaponMLRS, 48.3, 36.40557, 30),
		located("uav-2", "19:12:00", truce.CategoryWeaponSighting, truce.WeaponMLRS, 48.3, 36.54076, 30),
		impact,
	}
	var entries []journal.Entry
	for i := range obs {
		o := obs[i].Canonical()
		entries = append(entries, journal.Entry{Seq: uint64(i + 1), Time: at("19:40:00"), Kind: journal.KindObservation, Org: "coalition", Observation: &o})
	}
	_, derived := e.Apply(entries)

	admin := truce.Principal{Org: "coalition", Kind: truce.OrgCoalition, Role: truce.RoleAdmin}
	recs, _ := e.Incidents(IncidentQuery{Viewer: admin})
	if len(recs) != 4 {
		for _, r := range recs {
			t.Logf("incident %s %s at %v, %d observations", r.Incident.ID, r.Incident.Category, r.Incident.Location, len(r.Incident.Observations))
		}
		t.Fatalf("got %d incidents, want 4 (the explosions, two MLRS, the impact)", len(recs))
	}
	// In order of start time.
	patrols, mlrs30, mlrs40, pump := recs[0], recs[1], recs[2], recs[3]
	if n := len(patrols.Incident.Observations); n != 3 || patrols.Incident.Sources != 3 {
		t.Errorf("patrols: %d observations from %d sources, want 3 and 3", n, patrols.Incident.Sources)
	}
	if d := geo.Distance(patrols.Incident.Location, geo.Pt(48.5, 36.05)); d > 300 {
		t.Errorf("patrols: located %v, %.0f m from the explosions; want within 300 m", patrols.Incident.Location, d)
	}
	want := map[string][]string{
		patrols.Incident.ID: {"ceasefire   medium"}, // no zone, undetermined
		mlrs30.Incident.ID:  {"withdrawal wz-mlrs RU high"},
		mlrs40.Incident.ID:  nil,
		pump.Incident.ID:    {"ceasefire  UA medium", "protected_site pump UA high", "window_of_silence w1 UA critical"},
	}
	for _, r := range recs {
		var got []string
		for _, v := range r.Violations {
			got = append(got, fmt.Sprintf("%s %s %s %s", v.Rule, v.Zone, v.Party, v.Severity))
			if v.Sector != "north" {
				t.Errorf("violation %s: sector %q, want north", v.ID, v.Sector)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want[r.Incident.ID]) {
			t.Errorf("incident at %v: violations %q, want %q", r.Incident.Location, got, want[r.Incident.ID])
		}
	}
	if pump.Incident.Party != "UA" || patrols.Incident.Party != "" {
		t.Errorf("attribution: pump %q, patrols %q; want UA and undetermined", pump.Incident.Party, patrols.Incident.Party)
	}

	var levels []string
	for _, d := range derived {
		if d.Kind != journal.KindLevel {
			t.Errorf("derived entry of kind %s, want only sector levels", d.Kind)
			continue
		}
		l := d.Level
		levels = append(levels, fmt.Sprintf("%s %s %s->%s %v", l.At.Format("15:04"), l.Sector, l.From, l.To, l.Scores))
	}
	wantLevels := []string{"19:00 north CALM->TENSE [2]", "19:10 north TENSE->SERIOUS [7]", "19:30 north SERIOUS->CRITICAL [24]"}
	if fmt.Sprint(levels) != fmt.Sprint(wantLevels) {
		t.Errorf("level changes:\ngot  %q\nwant %q", levels, wantLevels)
	}
	if e.Triggered() {
		t.Error("trigger fired with one sector at CRITICAL; the agreement needs two")
	}
	// By 21:00 every violation has left the hour's window (the last came
	// at 19:30): the north is CALM again, with nothing new reported.
	for _, l := range e.SectorsAt(at("21:00:00")) {
		if l.Level != truce.LevelCalm || l.Scores[0] != 0 {
			t.Errorf("at 21:00 sector %s is %s with scores %v; want CALM, 0", l.Sector, l.Level, l.Scores)
		}
	}
	// The same evening applied again changes nothing and journals nothing.
	if ev, d := e.Apply(entries); len(ev) != 0 || len(d) != 0 {
		t.Errorf("applying the same entries again: %d events, %d derived entries; want none", len(ev), len(d))
	}
}

// TestSectorOfIncident: an incident that breaks no rule is still listed by
// the sector it happened in.
func TestSectorOfIncident(t *testing.T) {
	e, err := New(Config{Agreement: simpleAgreement(t)})
	if err != nil {
		t.Fatal(err)
	}
	// A casualty 20 km west of the line at 47.5N (the south sector, which
	// runs from 46.8N to 48N): no rule is about casualties.
	o := truce.Observation{Source: "ngo", SourceID: "1", Method: truce.MethodSeen, Category: truce.CategoryCasualty, Count: 1,
		Time: t0, Reliability: 'B', Credibility: 2, Marking: truce.Marking{TLP: truce.TLPGreen},
		Location: &truce.Location{Point: geo.Pt(47.5, 35.73), CEP: 100}}
	e.Apply([]journal.Entry{{Seq: 1, Time: t0, Kind: journal.KindObservation, Org: "coalition", Observation: &o}})
	admin := truce.Principal{Org: "coalition", Kind: truce.OrgCoalition, Role: truce.RoleAdmin}
	for sector, want := range map[string]int{"south": 1, "north": 0} {
		recs, _ := e.Incidents(IncidentQuery{Viewer: admin, Sectors: []string{sector}})
		if len(recs) != want || (want == 1 && len(recs[0].Violations) != 0) {
			t.Errorf("sector %s: %d incidents, want %d without violations", sector, len(recs), want)
		}
	}
}

// TestLateWindow: a window of silence journaled after the fire it forbids
// (an acknowledgement that came late) still makes that fire a breach.
func TestLateWindow(t *testing.T) {
	e, err := New(Config{Agreement: simpleAgreement(t)})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 6, 1, 19, 30, 0, 0, time.UTC)
	impact := truce.Observation{Source: "acoustic-9", SourceID: "1", Method: truce.MethodAcoustic, Category: truce.CategoryImpact, Count: 1,
		Time: at, Reliability: 'B', Credibility: 2, Marking: truce.Marking{TLP: truce.TLPGreen},
		Location: &truce.Location{Point: geo.Pt(48.205, 36.105), CEP: 50}, FireBearing: 270, HasFireBearing: true}
	e.Apply([]journal.Entry{{Seq: 1, Time: at.Add(time.Minute), Kind: journal.KindObservation, Org: "coalition", Observation: &impact}})
	rules := func() []truce.Rule {
		recs, _ := e.Incidents(IncidentQuery{Viewer: truce.Principal{Org: "coalition", Kind: truce.OrgCoalition, Role: truce.RoleAdmin}})
		var rs []truce.Rule
		for _, r := range recs {
			for _, v := range r.Violations {
				rs = append(rs, v.Rule)
			}
		}
		return rs
	}
	if got := rules(); slices.Contains(got, truce.RuleSilence) {
		t.Fatalf("before any window: violations %v", got)
	}
	w := truce.SilenceWindow{ID: "w1", Center: geo.Pt(48.2, 36.1), Radius: 2000, Acknowledged: true,
		Period: truce.TimeRange{From: at.Add(-time.Hour), Until: at.Add(time.Hour)}}
	ev, _ := e.Apply([]journal.Entry{{Seq: 2, Time: at.Add(time.Hour), Kind: journal.KindWindow, Org: "coalition", Window: &w}})
	if got := rules(); !slices.Contains(got, truce.RuleSilence) {
		t.Errorf("after the window: violations %v, want window_of_silence among them", got)
	}
	if !slices.ContainsFunc(ev, func(x Event) bool { return x.Kind == EventViolation && x.Violations[0].Rule == truce.RuleSilence }) {
		t.Errorf("no violation event for the breach found late")
	}
}
