package agreement

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

const (
	simple  = "testdata/simple/agreement.yaml"
	example = "../../examples/donbas/agreement.yaml"
)

func mustLoad(t testing.TB, file string) *truce.Agreement {
	t.Helper()
	a, err := Load(file)
	if err != nil {
		t.Fatalf("Load(%s): %v", file, err)
	}
	return a
}

// variant copies the simple agreement into a temporary directory, applies
// replacements to the named files ("old", "new" pairs) and returns the
// agreement's path.
func variant(t *testing.T, edits map[string][]string) string {
	t.Helper()
	dir := t.TempDir()
	files, _ := filepath.Glob("testdata/simple/*")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		pairs := edits[filepath.Base(f)]
		for i := 0; i+1 < len(pairs); i += 2 {
			if !strings.Contains(s, pairs[i]) {
				t.Fatalf("%s does not contain %q", f, pairs[i])
			}
			s = strings.Replace(s, pairs[i], pairs[i+1], 1)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "agreement.yaml")
}

func TestLoadSimple(t *testing.T) {
	a := mustLoad(t, simple)
	if a.ID != "simple-test" || a.Version != 3 || len(a.Parties) != 2 || len(a.Zones) != 8 || len(a.Sectors) != 2 {
		t.Fatalf("loaded %s v%d with %d parties, %d zones, %d sectors; want simple-test v3, 2, 8, 2", a.ID, a.Version, len(a.Parties), len(a.Zones), len(a.Sectors))
	}
	if a.LineDerived {
		t.Error("LineDerived = true for a given line")
	}
	z := a.Zones[1]
	if z.Distance["UA"] != 10e3 || z.Distance["RU"] != 35e3 || !slices.Equal(z.Weapons, []truce.WeaponClass{truce.WeaponMLRS, truce.WeaponHeavyMLRS}) {
		t.Errorf("zone wz-mlrs = %+v, want UA 10 km, RU 35 km, mlrs and heavy_mlrs", z)
	}
	if got := a.Zones[7].Site; got == nil || got.Cap.Radius != 3e3 || got.Category != "water_station" {
		t.Errorf("site = %+v, want a 3 km water_station", got)
	}
	e := a.Escalation
	if len(e.Windows) != 1 || e.Windows[0].Critical != 15 || e.Hysteresis != 0.5 || e.SeverityWeights[truce.SeverityHigh] != 5 || e.RenewedAggressionSectors != 2 {
		t.Errorf("escalation = %+v", e)
	}
	if !a.Effective.Contains(a.Effective.From) || a.Effective.Contains(a.Effective.Until) {
		t.Errorf("effective range %v is not half-open", a.Effective)
	}
}

// crossTrack is the closed-form distance from p to the 36th meridian, the
// simple agreement's line, for points abeam it: sin d = cos φ sin Δλ.
func crossTrack(p geo.Point) float64 {
	rad := math.Pi / 180
	return geo.EarthRadius * math.Asin(math.Cos(p.Lat*rad)*math.Abs(math.Sin((p.Lon-36)*rad)))
}

// TestZoneMembership checks side, distance, every zone kind and the sector
// for points whose answers follow from the geometry in closed form.
func TestZoneMembership(t *testing.T) {
	a := mustLoad(t, simple)
	// Band widths of the simple agreement, by party: wz-art, wz-mlrs, buffer, keep-out.
	bands := map[string]map[truce.PartyID]float64{
		"wz-art":   {"UA": 25e3, "RU": 25e3},
		"wz-mlrs":  {"UA": 10e3, "RU": 35e3},
		"buffer":   {"UA": 2e3, "RU": 2e3},
		"keep-out": {"UA": 30e3, "RU": 30e3},
	}
	tests := []struct {
		name   string
		p      geo.Point
		side   truce.PartyID
		sector string
		shapes []string // area and site zones expected
	}{
		{"west, 15 km", geo.Pt(48.3, 35.8), "UA", "north", nil},
		{"west, 1 km", geo.Pt(48.7, 35.9865), "UA", "north", nil},
		{"east, 1 km", geo.Pt(47.5, 36.0135), "RU", "south", nil},
		{"east, 12 km", geo.Pt(47.5, 36.16), "RU", "south", nil},
		{"east, 30 km", geo.Pt(47.8, 36.4), "RU", "south", nil},
		{"west, 74 km, no-fly polygon", geo.Pt(47.95, 35.05), "UA", "south", []string{"no-fly-west"}},
		{"east, in the site", geo.Pt(48.2, 36.11), "RU", "north", []string{"pump"}},
		{"disengagement area, west half", geo.Pt(48.5, 35.98), "UA", "north", []string{"de-centre"}},
		{"disengagement area, east half", geo.Pt(48.5, 36.02), "RU", "north", []string{"de-centre"}},
		{"enclave held by nobody", geo.Pt(48.5, 37.1), "", "", nil},
		{"island", geo.Pt(46.2, 38.7), "RU", "", nil},
		{"at sea", geo.Pt(46.6, 37.2), "", "", []string{"sea"}},
		{"far west, outside every area", geo.Pt(48, 33), "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := Locate(a, tt.p)
			side := truce.PartyID("")
			if loc.Party != nil {
				side = loc.Party.ID
			}
			if side != tt.side {
				t.Errorf("side = %q, want %q", side, tt.side)
			}
			abeam := tt.p.Lat > 47 && tt.p.Lat < 49
			if abeam {
				if want := crossTrack(tt.p); math.Abs(loc.Line.Distance-want) > 0.01 {
					t.Errorf("distance = %.3f m, want %.3f", loc.Line.Distance, want)
				}
			}
			var want []string
			for _, z := range a.Zones {
				if w, ok := bands[z.ID]; ok {
					if t, ok := w[tt.side]; ok && loc.Line.Distance <= t {
						want = append(want, z.ID)
					}
				} else if slices.Contains(tt.shapes, z.ID) {
					want = append(want, z.ID)
				}
			}
			if got := loc.ZoneIDs(); !slices.Equal(got, want) {
				t.Errorf("zones = %v, want %v (distance %.0f m)", got, want, loc.Line.Distance)
			}
			sector := ""
			if loc.Sector != nil {
				sector = loc.Sector.ID
			}
			if sector != tt.sector {
				t.Errorf("sector = %q, want %q", sector, tt.sector)
			}
		})
	}
}

func TestDerivedLine(t *testing.T) {
	path := variant(t, map[string][]string{"agreement.yaml": {"line: line.geojson\n", ""}})
	a := mustLoad(t, path)
	if !a.LineDerived {
		t.Fatal("LineDerived = false, want the line derived from the control areas")
	}
	parts := a.Line.Parts()
	want := []geo.Point{geo.Pt(49, 36), geo.Pt(48, 36), geo.Pt(47, 36)}
	if len(parts) != 1 || !(slices.Equal(parts[0], want) || slices.Equal(parts[0], reversed(want))) {
		t.Fatalf("derived line = %v, want %v in either direction", parts, want)
	}
	given := mustLoad(t, simple)
	for _, p := range []geo.Point{geo.Pt(48.3, 35.8), geo.Pt(47.5, 36.16), geo.Pt(48.5, 37.1)} {
		g, d := Locate(given, p), Locate(a, p)
		if math.Abs(g.Line.Distance-d.Line.Distance) > 1e-6 || !slices.Equal(g.ZoneIDs(), d.ZoneIDs()) {
			t.Errorf("at %v: derived line gives %v %v, given line %v %v", p, d.Line.Distance, d.ZoneIDs(), g.Line.Distance, g.ZoneIDs())
		}
	}
}

func reversed(s []geo.Point) []geo.Point {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func TestSidesOfTheLine(t *testing.T) {
	path := variant(t, map[string][]string{"agreement.yaml": {
		"control_area: ua.geojson", "side: right",
		"control_area: ru.geojson", "side: left",
	}})
	a := mustLoad(t, path)
	for _, tt := range []struct {
		p    geo.Point
		want truce.PartyID
	}{
		{geo.Pt(48.3, 35.8), "UA"}, // west of a southbound line: its right
		{geo.Pt(48.3, 36.2), "RU"},
		{geo.Pt(49.5, 35.9), "UA"}, // beyond the north end
		{geo.Pt(46.5, 36.1), "RU"}, // beyond the south end
		{geo.Pt(48, 33), "UA"},     // far away, still a side
	} {
		loc := Locate(a, tt.p)
		if loc.Party == nil || loc.Party.ID != tt.want {
			t.Errorf("Locate(%v).Party = %v, want %s", tt.p, loc.Party, tt.want)
		}
	}
	sh, err := ZoneShapes(a, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range sh.Pieces {
		if p.Zone.ID == "wz-mlrs" {
			// A band along a straight line, beyond whose ends each side
			// takes a quarter disc: w·L + π·w²/2.
			w := map[truce.PartyID]float64{"UA": 10e3, "RU": 35e3}[p.Side]
			want := w*a.Line.Length() + math.Pi*w*w/2
			if math.Abs(p.Area-want)/want > 0.002 {
				t.Errorf("wz-mlrs on %s: %.1f km², want %.1f km² (width × line length, plus end caps)", p.Side, p.Area/1e6, want/1e6)
			}
		}
	}
}

func TestExample(t *testing.T) {
	a := mustLoad(t, example)
	if n := a.Line.NumVertices(); n < 60 {
		t.Errorf("line has %d vertices, want at least 60", n)
	}
	if km := a.Line.Length() / 1e3; km < 600 || km > 1500 {
		t.Errorf("line is %.0f km long, want a front of 600-1,500 km", km)
	}
	if len(a.Sectors) < 6 {
		t.Errorf("%d sectors, want at least 6", len(a.Sectors))
	}
	kinds := map[truce.ZoneKind]bool{}
	for _, z := range a.Zones {
		kinds[z.Kind] = true
		if z.Kind == truce.ZoneKeepOut && z.Distance["UA"] != 30e3 {
			t.Errorf("keep-out %s is %g m, want 30 km", z.ID, z.Distance["UA"])
		}
		if z.Site != nil {
			if d := a.Line.Distance(z.Site.Cap.Center); d > 40e3 {
				t.Errorf("protected site %s is %.0f km from the line, want one near it", z.ID, d/1e3)
			}
		}
	}
	for _, k := range []truce.ZoneKind{truce.ZoneWithdrawal, truce.ZoneBuffer, truce.ZoneDisengagement, truce.ZoneProtectedSite, truce.ZoneNoFly, truce.ZoneMaritime, truce.ZoneKeepOut} {
		if !kinds[k] {
			t.Errorf("the example has no %s zone", k)
		}
	}
	// Public town coordinates on each side of the line, and near both ends.
	for _, tt := range []struct {
		town string
		p    geo.Point
		want truce.PartyID
	}{
		{"Kramatorsk", geo.Pt(48.7389, 37.5844), "UA"},
		{"Sloviansk", geo.Pt(48.8667, 37.6167), "UA"},
		{"Zaporizhzhia", geo.Pt(47.8388, 35.1396), "UA"},
		{"Kherson", geo.Pt(46.6354, 32.6169), "UA"},
		{"Kharkiv", geo.Pt(49.9935, 36.2304), "UA"},
		{"Donetsk", geo.Pt(48.0159, 37.8028), "RU"},
		{"Luhansk", geo.Pt(48.5740, 39.3078), "RU"},
		{"Melitopol", geo.Pt(46.8489, 35.3675), "RU"},
		{"Mariupol", geo.Pt(47.0971, 37.5434), "RU"},
		{"Simferopol (Crimea)", geo.Pt(44.9521, 34.1024), "RU"},
		{"Oleshky (left bank)", geo.Pt(46.6283, 32.7199), "RU"},
		{"Enerhodar", geo.Pt(47.4986, 34.6570), "RU"},
		{"Nikopol", geo.Pt(47.5667, 34.4000), "UA"},
	} {
		loc := Locate(a, tt.p)
		if loc.Party == nil || loc.Party.ID != tt.want {
			t.Errorf("%s at %v: side %v, want %s", tt.town, tt.p, loc.Party, tt.want)
		}
	}
	// Just either side of each end of the line.
	parts := a.Line.Parts()
	line := parts[0]
	for _, end := range [][2]geo.Point{{line[0], line[1]}, {line[len(line)-1], line[len(line)-2]}} {
		tip, next := end[0], end[1]
		b := geo.Bearing(tip, next)
		for _, off := range []struct {
			turn float64
			want geo.Side
		}{{90, geo.Left}, {-90, geo.Right}} {
			// Walking from tip to next, +90° is to the right of that walk.
			p := geo.Destination(geo.Destination(tip, b, 3e3), b+off.turn, 1e3)
			loc := Locate(a, p)
			if loc.Party == nil {
				t.Errorf("a point 1 km off the line near %v is on no side", tip)
				continue
			}
			otherSide := Locate(a, geo.Destination(geo.Destination(tip, b, 3e3), b-off.turn, 1e3))
			if otherSide.Party == nil || otherSide.Party.ID == loc.Party.ID {
				t.Errorf("points 1 km either side of the line near %v: %v and %v, want different parties", tip, loc.Party, otherSide.Party)
			}
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		edits map[string][]string
		want  []string // each must appear in one message
	}{
		{"unknown weapon class", map[string][]string{"agreement.yaml": {"[mlrs, heavy_mlrs]", "[mlrs, rail_gun]"}},
			[]string{`agreement.yaml:27: zones[1] (wz-mlrs).weapons: unknown weapon class "rail_gun" (want one of small_arms,`}},
		{"negative distance", map[string][]string{"agreement.yaml": {"distance_km: 25", "distance_km: -25"}},
			[]string{"agreement.yaml:24: zones[0] (wz-art).distance_km: must be positive, not -25"}},
		{"negative distance for one side", map[string][]string{"agreement.yaml": {"{UA: 10, RU: 35}", "{UA: 10, RU: -35}"}},
			[]string{"zones[1] (wz-mlrs).distance_km.RU: must be positive, not -35"}},
		{"distance for an unknown party", map[string][]string{"agreement.yaml": {"{UA: 10, RU: 35}", "{UA: 10, XX: 35}"}},
			[]string{`zones[1] (wz-mlrs).distance_km.XX: unknown field (want one of UA, RU)`}},
		{"self-intersecting polygon", map[string][]string{"zones.geojson": {"[[34.9, 47.9], [35.1, 47.9], [35.1, 48.1], [34.9, 48.1], [34.9, 47.9]]", "[[34.9, 47.9], [35.1, 48.1], [35.1, 47.9], [34.9, 48.1], [34.9, 47.9]]"}},
			[]string{`zones.geojson: feature "no-fly-west": polygon 0: ring 0: polygon ring not simple near 47.90000, 34.90000`}},
		{"unclosed polygon", map[string][]string{"zones.geojson": {"[37.0, 46.8], [37.0, 46.5]]", "[37.0, 46.8], [37.01, 46.5]]"}},
			[]string{"zones.geojson: feature 1 (sea): ring 0 is not closed: first position (46.50000, 37.00000) differs from last (46.50000, 37.01000)"}},
		{"party without a side", map[string][]string{"agreement.yaml": {"    control_area: ru.geojson\n", ""}},
			[]string{"agreement.yaml:16: parties[1] (RU): party has no side: give control_area"}},
		{"sector off the line", map[string][]string{"sectors.geojson": {"[[35, 46.8], [37, 46.8], [37, 48], [35, 48], [35, 46.8]]", "[[30, 46.8], [31, 46.8], [31, 48], [30, 48], [30, 46.8]]"}},
			[]string{"sectors[1] (south).geometry: sector is off the line"}},
		{"unreadable YAML", map[string][]string{"agreement.yaml": {"title: Test", "title: [Test"}},
			[]string{"agreement.yaml: unreadable YAML: line"}},
		{"unreadable GeoJSON", map[string][]string{"ua.geojson": {`{"type": "FeatureCollection"`, `{"type": "FeatureCollection" oops`}},
			[]string{"ua.geojson: unreadable GeoJSON: not a GeoJSON object: invalid character 'o'"}},
		{"missing GeoJSON file", map[string][]string{"agreement.yaml": {"geometry: sectors.geojson\n    feature: south", "geometry: nowhere.geojson\n    feature: south"}},
			[]string{"sectors[1] (south).geometry: nowhere.geojson: cannot open: no such file or directory"}},
		{"unknown zone kind", map[string][]string{"agreement.yaml": {"kind: buffer", "kind: bufer"}},
			[]string{`zones[2] (buffer).kind: unknown zone kind "bufer" (want one of withdrawal, buffer,`}},
		{"unknown field", map[string][]string{"agreement.yaml": {"notice:", "notes:"}},
			[]string{`agreement.yaml:8: agreement.notes: unknown field (want one of id,`, "agreement.yaml: agreement.notice"[:0]}},
		{"withdrawal without weapons", map[string][]string{"agreement.yaml": {"    weapons: [artillery_100mm_plus]\n", ""}},
			[]string{"zones[0] (wz-art).weapons: a withdrawal zone needs at least one weapon class"}},
		{"geometry on a band kind", map[string][]string{"agreement.yaml": {"kind: keep_out\n    distance_km: 30", "kind: keep_out\n    geometry: zones.geojson"}},
			[]string{"zones[3] (keep-out).geometry: a keep_out zone takes distance_km, not polygons"}},
		{"until before from", map[string][]string{"agreement.yaml": {"until: 2027-01-01T00:00:00Z", "until: 2025-01-01T00:00:00Z"}},
			[]string{"effective.until: must be after from (2026-01-01T00:00:00Z)"}},
		{"thresholds that do not rise", map[string][]string{"agreement.yaml": {"{duration: 1h, tense: 2, serious: 6, critical: 15}", "{duration: 1h, tense: 2, serious: 16, critical: 15}"}},
			[]string{"escalation.windows[0]: thresholds must rise"}},
		{"duplicate zone", map[string][]string{"agreement.yaml": {"id: buffer", "id: wz-art"}},
			[]string{"zones[2] (wz-art).id: zone wz-art is defined twice"}},
		{"overlapping control areas", map[string][]string{"ua.geojson": {"[[36, 49], [34, 49], [34, 47], [36, 47], [36, 48], [36, 49]]", "[[36.5, 49], [34, 49], [34, 47], [36.5, 47], [36.5, 49]]"}},
			[]string{"parties[1] (RU).control_area: overlaps the control area of UA by"}},
		{"line given as a polygon", map[string][]string{"agreement.yaml": {"line: line.geojson", "line: zones.geojson"}},
			[]string{"zones.geojson: feature 0 (no-fly-west).geometry: the line must be LineString or MultiLineString, not Polygon"}},
		{"site out of range", map[string][]string{"agreement.yaml": {"lat: 48.2", "lat: 98.2"}},
			[]string{"zones[7] (pump).site: latitude 98.2 is outside [-90, 90]"}},
		{"path outside the directory", map[string][]string{"agreement.yaml": {"line: line.geojson", "line: ../line.geojson"}},
			[]string{`agreement.line: "../line.geojson" must be a relative path inside the agreement's directory`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(variant(t, tt.edits))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if !errors.Is(err, truce.ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
			}
			var ve *truce.ValidationError
			if !errors.As(err, &ve) {
				t.Errorf("err %T is not a *ValidationError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestLoadReportsEveryProblem checks that several problems in one
// agreement come back together, each located.
func TestLoadReportsEveryProblem(t *testing.T) {
	path := variant(t, map[string][]string{"agreement.yaml": {
		"version: 3", "version: 0",
		"[mlrs, heavy_mlrs]", "[mlrs, pike]",
		"distance_km: 2\n", "distance_km: -2\n",
		"radius_km: 3", "radius_km: 0",
		"critical_sectors: 2", "critical_sectors: 9",
	}})
	_, err := Load(path)
	var probs truce.Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v, want truce.Problems", err)
	}
	for _, w := range []string{"version: must be 1 or more", `unknown weapon class "pike"`, "distance_km: must be positive, not -2", "site.radius_km: must be more than 0", "critical_sectors: must be between 1 and the number of sectors (2), not 9"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%v", w, err)
		}
	}
	if len(probs) != 5 {
		t.Errorf("got %d problems, want 5:\n%v", len(probs), err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	if err == nil || !strings.Contains(err.Error(), "none.yaml: cannot open") {
		t.Errorf("err = %v, want a 'cannot open' naming the file", err)
	}
}
