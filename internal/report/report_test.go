package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/engine"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

const simpleAgreement = "../agreement/testdata/simple/agreement.yaml"

func loadSimple(t testing.TB) *truce.Agreement {
	t.Helper()
	a, err := agreement.Load(simpleAgreement)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// rec makes a record of one incident and its violations, each violation
// given as rule/zone/party; all share the incident's sector and time.
func rec(id, start string, cat truce.Category, weapon truce.WeaponClass, lat, lon float64, sector string, party truce.PartyID, conf float64, vs ...[3]string) engine.Record {
	inc := truce.Incident{ID: id, Category: cat, Weapon: weapon, Count: 1, Location: geo.Pt(lat, lon),
		Start: at(start), End: at(start), Confidence: conf, Likelihood: truce.LikelihoodOf(conf), Party: party, Status: truce.StatusVerified}
	r := engine.Record{Incident: inc, Sector: sector}
	for _, v := range vs {
		r.Violations = append(r.Violations, truce.Violation{ID: id + "/" + v[0] + "/" + v[1], Incident: id, Rule: truce.Rule(v[0]), Zone: v[1],
			Sector: sector, Party: truce.PartyID(v[2]), Severity: truce.SeverityMedium, Time: inc.Start, Location: inc.Location,
			Explanation: v[0] + " in " + v[1]})
	}
	return r
}

// handInput is a day on the simple agreement (sectors north, south, and
// outside every sector) whose counts are worked out by hand in the tests.
func handInput(t testing.TB) Input {
	a := loadSimple(t)
	i2 := rec("i2", "2026-11-25T09:30:00Z", truce.CategoryWeaponSighting, truce.WeaponArtillery100Plus, 48.61234, 35.81236, "north", "UA", 0.7, [3]string{"withdrawal", "wz-art", "UA"})
	i2.Incident.Count = 3
	dismissed := rec("i8", "2026-11-25T12:00:00Z", truce.CategoryShot, truce.WeaponSmallArms, 47.5, 35.9, "south", "UA", 0.9, [3]string{"ceasefire", "", "UA"})
	dismissed.Incident.Status = truce.StatusDismissed
	return Input{
		Agreement: a,
		Date:      at("2026-11-25T00:00:00Z"),
		Cutoff:    at("2026-11-25T21:00:00Z"),
		Incidents: []engine.Record{
			rec("i6", "2026-11-25T20:13:00Z", truce.CategoryShot, truce.WeaponSmallArms, 49.3, 36.0, "", "UA", 0.3, [3]string{"ceasefire", "", "UA"}),
			rec("i1", "2026-11-25T06:10:00Z", truce.CategoryExplosion, truce.WeaponArtillery100Plus, 48.5, 35.9, "north", "RU", 0.95, [3]string{"ceasefire", "", "RU"}),
			i2,
			rec("i3", "2026-11-25T11:00:00Z", truce.CategoryWeaponSighting, truce.WeaponMLRS, 47.5, 36.2, "south", "RU", 0.6, [3]string{"withdrawal", "wz-mlrs", "RU"}),
			rec("i4", "2026-11-25T14:00:00Z", truce.CategoryImpact, truce.WeaponMortar, 48.2, 36.1, "north", "", 0.5,
				[3]string{"ceasefire", "", ""}, [3]string{"window_of_silence", "w-pump", ""}, [3]string{"protected_site", "pump", ""}),
			rec("i5", "2026-11-25T16:45:00Z", truce.CategoryRestriction, "", 47.2, 35.95, "south", "RU", 0.95, [3]string{"freedom_of_movement", "", "RU"}),
			rec("i7", "2026-11-25T21:30:00Z", truce.CategoryExplosion, "", 48.5, 36.1, "north", "RU", 0.9, [3]string{"ceasefire", "", "RU"}), // after the cut-off
			dismissed,
			rec("i9", "2026-11-24T10:00:00Z", truce.CategoryExplosion, "", 48.5, 36.1, "north", "RU", 0.9, [3]string{"ceasefire", "", "RU"}),
			rec("i10", "2026-11-19T10:00:00Z", truce.CategoryExplosion, "", 47.5, 35.9, "south", "UA", 0.9, [3]string{"ceasefire", "", "UA"}),
			rec("i11", "2026-11-18T10:00:00Z", truce.CategoryExplosion, "", 47.5, 35.9, "south", "UA", 0.9, [3]string{"ceasefire", "", "UA"}), // before the trend
		},
		Levels: []truce.LevelChange{
			{Sector: "north", From: truce.LevelTense, To: truce.LevelSerious, At: at("2026-11-25T14:05:00Z"), Scores: []float64{7}},
			{Sector: "north", From: truce.LevelCalm, To: truce.LevelTense, At: at("2026-11-25T14:00:00Z"), Scores: []float64{2}},
			{Sector: "south", From: truce.LevelTense, To: truce.LevelCalm, At: at("2026-11-24T23:00:00Z")},
			{Sector: "north", From: truce.LevelSerious, To: truce.LevelCritical, At: at("2026-11-25T22:00:00Z")},
		},
		Sectors: []truce.SectorLevel{
			{Sector: "south", Level: truce.LevelCalm, Since: at("2026-11-24T23:00:00Z"), Scores: []float64{0}},
			{Sector: "north", Level: truce.LevelSerious, Since: at("2026-11-25T14:05:00Z"), Scores: []float64{7}},
		},
		Windows: []truce.SilenceWindow{
			{ID: "w-pump", Name: "Pump repair", Center: geo.Pt(48.2, 36.1), Radius: 3000, Period: truce.TimeRange{From: at("2026-11-25T12:00:00Z"), Until: at("2026-11-25T16:00:00Z")}, Acknowledged: true},
			{ID: "w-night", Name: "Night repair", Center: geo.Pt(47.5, 36), Radius: 2000, Period: truce.TimeRange{From: at("2026-11-25T20:00:00Z"), Until: at("2026-11-26T04:00:00Z")}, Acknowledged: true},
			{ID: "w-bridge", Name: "Bridge repair", Center: geo.Pt(48.6, 36), Radius: 2000, Period: truce.TimeRange{From: at("2026-11-25T06:00:00Z"), Until: at("2026-11-25T10:00:00Z")}, Acknowledged: true},
			{ID: "w-old", Name: "Last week", Center: geo.Pt(48.6, 36), Radius: 2000, Period: truce.TimeRange{From: at("2026-11-20T06:00:00Z"), Until: at("2026-11-20T10:00:00Z")}, Acknowledged: true},
		},
	}
}

func build(t testing.TB) *Report {
	t.Helper()
	r, err := Build(handInput(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDTG(t *testing.T) {
	for _, c := range []struct {
		in   time.Time
		want string
	}{
		{at("2026-11-25T20:13:00Z"), "252013Z NOV 26"},
		{at("2026-01-02T03:04:59Z"), "020304Z JAN 26"},
		{at("2026-11-25T22:13:00+02:00"), "252013Z NOV 26"}, // shown in UTC
		{at("2030-12-31T23:59:00Z"), "312359Z DEC 30"},
	} {
		if got := DTG(c.in); got != c.want {
			t.Errorf("DTG(%s): got %q, want %q", c.in, got, c.want)
		}
	}
}

func TestBuildSummary(t *testing.T) {
	r := build(t)
	s := r.Summary
	// Day's incidents: i1..i6 (i7 is after the cut-off, i8 dismissed,
	// i9..i11 on other days). Violations: one each, three for i4.
	if s.Incidents != 6 {
		t.Errorf("incidents: got %d, want 6", s.Incidents)
	}
	if s.Violations != 8 {
		t.Errorf("violations: got %d, want 8", s.Violations)
	}
	wantV := []Count{{"UA", 2}, {"RU", 3}, {Undetermined, 3}}
	if !reflect.DeepEqual(s.ViolationsByParty, wantV) {
		t.Errorf("violations by party: got %v, want %v", s.ViolationsByParty, wantV)
	}
	wantI := []Count{{"UA", 2}, {"RU", 3}, {Undetermined, 1}}
	if !reflect.DeepEqual(s.IncidentsByParty, wantI) {
		t.Errorf("incidents by party: got %v, want %v", s.IncidentsByParty, wantI)
	}
	// Confidences 0.95, 0.95, 0.7, 0.6, 0.5, 0.3; the median (lower) is 0.6.
	wantL := []Count{{"almost certain", 2}, {"likely", 2}, {"roughly even chance", 1}, {"unlikely", 1}}
	if !reflect.DeepEqual(s.ByLikelihood, wantL) {
		t.Errorf("by likelihood: got %v, want %v", s.ByLikelihood, wantL)
	}
	if s.Confidence != truce.Likely {
		t.Errorf("confidence: got %q, want %q", s.Confidence, truce.Likely)
	}
	wantText := "As of 252100Z NOV 26, the monitors recorded 6 incidents and 8 violations of the agreement on 2026-11-25. " +
		"Of the violations, 2 attributed to UA, 3 attributed to RU, 3 undetermined."
	if !strings.HasPrefix(s.Text, wantText) {
		t.Errorf("summary text: got %q, want it to begin %q", s.Text, wantText)
	}
	if r.CutoffDTG != "252100Z NOV 26" {
		t.Errorf("cut-off DTG: got %q, want %q", r.CutoffDTG, "252100Z NOV 26")
	}
}

func TestBuildSectors(t *testing.T) {
	r := build(t)
	if len(r.Sectors) != 3 {
		t.Fatalf("sector tables: got %d, want 3 (north, south, outside)", len(r.Sectors))
	}
	want := []SectorTable{
		{Sector: "north", Name: "North", Violations: 5,
			ByParty:    []Count{{"UA", 1}, {"RU", 1}, {Undetermined, 3}},
			ByRule:     []Count{{"ceasefire", 2}, {"protected_site", 1}, {"window_of_silence", 1}, {"withdrawal", 1}},
			ByCategory: []Count{{"explosion", 1}, {"impact", 3}, {"weapon_sighting", 1}},
			ByWeapon:   []Count{{"artillery_100mm_plus", 2}, {"mortar", 3}}},
		{Sector: "south", Name: "South", Violations: 2,
			ByParty:    []Count{{"UA", 0}, {"RU", 2}, {Undetermined, 0}},
			ByRule:     []Count{{"freedom_of_movement", 1}, {"withdrawal", 1}},
			ByCategory: []Count{{"restriction", 1}, {"weapon_sighting", 1}},
			ByWeapon:   []Count{{"mlrs", 1}, {"unknown", 1}}},
		{Sector: "", Name: "outside every sector", Violations: 1,
			ByParty:    []Count{{"UA", 1}, {"RU", 0}, {Undetermined, 0}},
			ByRule:     []Count{{"ceasefire", 1}},
			ByCategory: []Count{{"shot", 1}},
			ByWeapon:   []Count{{"small_arms", 1}}},
	}
	for i := range want {
		if !reflect.DeepEqual(r.Sectors[i], want[i]) {
			t.Errorf("sector %d:\n got %+v\nwant %+v", i, r.Sectors[i], want[i])
		}
	}
}

func TestBuildWithdrawalRestrictionsLevels(t *testing.T) {
	r := build(t)
	if len(r.Withdrawal) != 2 {
		t.Fatalf("withdrawal violations: got %d, want 2", len(r.Withdrawal))
	}
	w := r.Withdrawal[0]
	if w.Incident != "i2" || w.DTG != "250930Z NOV 26" || w.Lat != 48.6123 || w.Lon != 35.8124 ||
		w.Weapon != truce.WeaponArtillery100Plus || w.Count != 3 || w.Zone != "wz-art" || w.Party != "UA" || w.MGRS != "36UYU0728488181" || w.Likelihood != truce.Likely {
		t.Errorf("first withdrawal violation: got %+v, want i2 at 250930Z NOV 26, 48.6123 35.8124, 3 artillery_100mm_plus in wz-art by UA, likely, MGRS 36UYU0728488181 (GDAL: zone 36 E 707,284.38 N 5,388,181.10; band U; E 7xx km is the seventh column of S-Z, Y; row 53 + 5 for an even zone is U; digits truncated)", w)
	}
	if w := r.Withdrawal[1]; w.Incident != "i3" || w.Party != "RU" || w.Zone != "wz-mlrs" || w.DTG != "251100Z NOV 26" {
		t.Errorf("second withdrawal violation: got %+v, want i3 at 251100Z NOV 26 in wz-mlrs by RU", w)
	}
	if len(r.Restrictions) != 1 || r.Restrictions[0].Incident != "i5" || r.Restrictions[0].DTG != "251645Z NOV 26" || r.Restrictions[0].Party != "RU" {
		t.Errorf("restrictions: got %+v, want i5 at 251645Z NOV 26 by RU", r.Restrictions)
	}
	if len(r.Levels) != 2 || r.Levels[0].Sector != "north" || r.Levels[0].Level != truce.LevelSerious || r.Levels[0].SinceDTG != "251405Z NOV 26" || r.Levels[1].Level != truce.LevelCalm {
		t.Errorf("levels: got %+v, want north SERIOUS since 251405Z NOV 26, south CALM", r.Levels)
	}
	var got []string
	for _, c := range r.Timeline {
		got = append(got, c.DTG+" "+c.Sector+" "+string(c.From)+">"+string(c.To))
	}
	want := []string{"251400Z NOV 26 north CALM>TENSE", "251405Z NOV 26 north TENSE>SERIOUS"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("timeline: got %q, want %q", got, want)
	}
}

func TestWindows(t *testing.T) {
	r := build(t)
	var got []string
	for _, w := range r.Windows {
		got = append(got, w.ID+" "+w.Status+" "+strings.Join(w.Breaches, ","))
	}
	// w-old ended before the day; w-pump is broken by i4; w-bridge closed
	// without a breach; w-night is still open at the cut-off.
	want := []string{"w-bridge held ", "w-pump broken i4", "w-night holding "}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("windows: got %q, want %q", got, want)
	}
	if !r.Windows[0].Held || r.Windows[1].Held {
		t.Errorf("held: got bridge %v, pump %v; want true, false", r.Windows[0].Held, r.Windows[1].Held)
	}
	if got, want := r.Windows[1].BreachParties, []Count{{"UA", 0}, {"RU", 0}, {Undetermined, 1}}; !reflect.DeepEqual(got, want) {
		t.Errorf("pump breaches by party: got %v, want %v", got, want)
	}
}

func TestTrend(t *testing.T) {
	r := build(t)
	if len(r.Trend) != TrendDays {
		t.Fatalf("trend days: got %d, want %d", len(r.Trend), TrendDays)
	}
	// i10 on the 19th (UA); i9 on the 24th (RU); the day: UA 2, RU 3,
	// undetermined 3. i11 (the 18th) is before the trend.
	want := map[string][3]int{"2026-11-19": {1, 0, 0}, "2026-11-24": {0, 1, 0}, "2026-11-25": {2, 3, 3}}
	for i, d := range r.Trend {
		if wantDate := at("2026-11-19T00:00:00Z").AddDate(0, 0, i).Format(time.DateOnly); d.Date != wantDate {
			t.Errorf("trend day %d: got %s, want %s", i, d.Date, wantDate)
		}
		w := want[d.Date]
		got := [3]int{d.ByParty[0].Count, d.ByParty[1].Count, d.ByParty[2].Count}
		if got != w || d.Total != w[0]+w[1]+w[2] {
			t.Errorf("trend %s: got %v total %d, want %v total %d", d.Date, got, d.Total, w, w[0]+w[1]+w[2])
		}
	}
}

func TestBuildErrors(t *testing.T) {
	in := handInput(t)
	in.Date = at("2026-11-25T06:00:00Z")
	if _, err := Build(in); err == nil {
		t.Error("Build with a date that is not midnight: got no error")
	}
	in = handInput(t)
	in.Agreement = nil
	if _, err := Build(in); err == nil {
		t.Error("Build without an agreement: got no error")
	}
	in = handInput(t)
	in.Cutoff = time.Time{}
	r, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if r.CutoffDTG != "260000Z NOV 26" || r.Summary.Incidents != 7 {
		t.Errorf("default cut-off: got %s with %d incidents, want 260000Z NOV 26 with 7 (i7 now counts)", r.CutoffDTG, r.Summary.Incidents)
	}
	// A cut-off the next morning: the day's counts stop at midnight.
	in = handInput(t)
	in.Cutoff = at("2026-11-26T06:00:00Z")
	in.Incidents = append(in.Incidents, rec("i12", "2026-11-26T01:00:00Z", truce.CategoryShot, "", 48.5, 35.9, "north", "UA", 0.9, [3]string{"ceasefire", "", "UA"}))
	r, err = Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Incidents != 7 || r.Trend[TrendDays-1].Total != 9 {
		t.Errorf("late cut-off: got %d incidents and %d violations on the last trend day, want 7 and 9", r.Summary.Incidents, r.Trend[TrendDays-1].Total)
	}
}

// wellFormed reports whether s parses as XML from start to end.
func wellFormed(s string) error {
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// fragment returns the element that begins with open and ends with the
// first close after it.
func fragment(t *testing.T, s, open, close string) string {
	t.Helper()
	i := strings.Index(s, open)
	if i < 0 {
		t.Fatalf("no %s in the HTML", open)
	}
	j := strings.Index(s[i:], close)
	if j < 0 {
		t.Fatalf("%s is not closed", open)
	}
	return s[i : i+j+len(close)]
}

func TestHTML(t *testing.T) {
	r := build(t)
	var b bytes.Buffer
	if err := r.HTML(&b); err != nil {
		t.Fatal(err)
	}
	h := b.String()
	for _, bad := range []string{"http://", "https://", "<script", "ZgotmplZ", "<link", "@import"} {
		if strings.Contains(h, bad) {
			t.Errorf("HTML contains %q; want a self-contained page", bad)
		}
	}
	m := fragment(t, h, `<svg class="map"`, "</svg>")
	if err := wellFormed(m); err != nil {
		t.Errorf("map SVG is not well-formed XML: %v", err)
	}
	if err := wellFormed(fragment(t, h, `<svg class="trend"`, "</svg>")); err != nil {
		t.Errorf("trend SVG is not well-formed XML: %v", err)
	}
	// Five dots (i1..i5; i6 is north of the agreement's bounding box), the
	// line, two sectors (north SERIOUS, south CALM).
	if got := strings.Count(m, "<circle"); got != 5 || r.Map.Outside != 1 {
		t.Errorf("dots on the map: got %d with %d outside, want 5 with 1 outside", got, r.Map.Outside)
	}
	for _, want := range []string{`fill="` + LevelColour[truce.LevelSerious] + `"`, `fill="` + LevelColour[truce.LevelCalm] + `"`, `class="line"`, "zone Pumping station"} {
		if !strings.Contains(m, want) {
			t.Errorf("map lacks %q", want)
		}
	}
	for _, want := range []string{"252100Z NOV 26", "250930Z NOV 26", "48.6123", "35.8124", "Pump repair", "broken", "freedom", "<table>"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	// The page as a whole: every tag the template opens, it closes.
	if got, want := strings.Count(h, "<table>"), strings.Count(h, "</table>"); got != want {
		t.Errorf("tables: %d opened, %d closed", got, want)
	}
}

func TestHTMLEscapes(t *testing.T) {
	in := handInput(t)
	in.Incidents[1].Violations[0].Explanation = `<b>"bold" & brash</b>`
	in.Windows[0].Name = "<script>alert(1)</script>"
	in.Incidents[1].Incident.ID = `x"><y`
	r, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.HTML(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script>") || strings.Contains(b.String(), "<b>") || strings.Contains(b.String(), `x"><y`) {
		t.Error("HTML does not escape names, ids and explanations")
	}
	if err := wellFormed(fragment(t, b.String(), `<svg class="map"`, "</svg>")); err != nil {
		t.Errorf("map SVG with awkward ids is not well-formed: %v", err)
	}
}

func TestMapAggregates(t *testing.T) {
	in := handInput(t)
	in.Incidents = nil
	n := MaxDots + 1000
	for i := range n {
		// Three clumps (a few cells each), alternating parties.
		lat, lon := 48.5+float64(i%3)*0.3, 35.95+float64(i%7)*0.001
		party := []truce.PartyID{"UA", "RU", ""}[i%3]
		in.Incidents = append(in.Incidents, rec("x"+string(rune('a'+i%26))+time.Duration(i).String(), "2026-11-25T10:00:00Z", truce.CategoryExplosion, "", lat, lon, "north", party, 0.9, [3]string{"ceasefire", "", string(party)}))
	}
	r, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Map.Aggregated || r.Map.Incidents != n {
		t.Errorf("map: got aggregated %v over %d incidents, want aggregated over %d", r.Map.Aggregated, r.Map.Incidents, n)
	}
	if r.Map.Dots < 3 || r.Map.Dots > 30 {
		t.Errorf("aggregated dots: got %d, want between 3 and 30", r.Map.Dots)
	}
	var b bytes.Buffer
	if err := r.HTML(&b); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(fragment(t, b.String(), `<svg class="map"`, "</svg>"), "<circle"); got != r.Map.Dots {
		t.Errorf("circles: got %d, want %d", got, r.Map.Dots)
	}
}

func TestMarkdown(t *testing.T) {
	r := build(t)
	var b bytes.Buffer
	if err := r.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"# Daily report 2026-11-25",
		"| Party | Incidents | Violations |",
		"| undetermined | 1 | 3 |",
		"| total | 6 | 8 |",
		"### North (north): 5 violations",
		"| Category | Violations |\n| --- | --- |\n| explosion | 1 |\n| impact | 3 |\n| weapon_sighting | 1 |\n",
		"| Weapon class | Violations |",
		"| mortar | 3 |",
		"| 250930Z NOV 26 | 48.6123 | 35.8124 | 36UYU0728488181 | artillery_100mm_plus | 3 |",
		"| Pump repair | 251200Z NOV 26 | 251600Z NOV 26 | broken | i4 |",
		"| Bridge repair | 250600Z NOV 26 | 251000Z NOV 26 | held | — |",
		"| 251645Z NOV 26 |",
		"| Date | UA | RU | undetermined | Total |",
		"| 2026-11-25 | 2 | 3 | 3 | 8 |",
		"| 2026-11-19 | 1 | 0 | 0 | 1 |",
		"| 251405Z NOV 26 | North | TENSE | SERIOUS | 7 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	r := build(t)
	var b bytes.Buffer
	if err := r.JSON(&b); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Summary.Violations != 8 || len(back.Windows) != 3 || back.Windows[1].Status != WindowBroken {
		t.Errorf("decoded: got %d violations and windows %+v, want 8 and w-pump broken", back.Summary.Violations, back.Windows)
	}
	var again bytes.Buffer
	if err := back.JSON(&again); err != nil {
		t.Fatal(err)
	}
	if again.String() != b.String() {
		t.Errorf("JSON does not round-trip:\n got %s\nwant %s", again.String(), b.String())
	}
	for _, key := range []string{`"cutoff_dtg"`, `"withdrawal_violations"`, `"windows_of_silence"`, `"violations_by_party"`, `"mgrs": "36UYU`} {
		if !strings.Contains(b.String(), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	// A decoded report still renders, without its map.
	var h bytes.Buffer
	if err := back.HTML(&h); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.String(), "No map") {
		t.Error("HTML of a decoded report: want the no-map note")
	}
}

func TestDeterministic(t *testing.T) {
	render := func(in Input) string {
		r, err := Build(in)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := r.HTML(&b); err != nil {
			t.Fatal(err)
		}
		if err := r.Markdown(&b); err != nil {
			t.Fatal(err)
		}
		if err := r.JSON(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	in := handInput(t)
	first := render(in)
	// The same input in reverse order gives the same report.
	for i, j := 0, len(in.Incidents)-1; i < j; i, j = i+1, j-1 {
		in.Incidents[i], in.Incidents[j] = in.Incidents[j], in.Incidents[i]
	}
	if second := render(in); second != first {
		t.Error("report depends on the order of the incidents")
	}
}
