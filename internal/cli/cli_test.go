package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const (
	example = "../../examples/donbas/agreement.yaml"
	simple  = "../agreement/testdata/simple/agreement.yaml"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersionAndHelp(t *testing.T) {
	if code, out, _ := run(t, "version"); code != 0 || !strings.HasPrefix(out, "truce ") {
		t.Errorf("version: code %d, output %q", code, out)
	}
	code, out, _ := run(t, "--help")
	if code != 0 || !strings.Contains(out, "agreement") || !strings.Contains(out, "version") {
		t.Errorf("--help: code %d, output %q", code, out)
	}
	for _, args := range [][]string{{"agreement", "check", "--help"}, {"help", "agreement"}, {"agreement", "zones", "-h"}} {
		if code, out, _ := run(t, args...); code != 0 || !strings.Contains(out, "usage: truce agreement") {
			t.Errorf("%v: code %d, output %q", args, code, out)
		}
	}
	if code, _, errs := run(t, "frobnicate"); code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: code %d, stderr %q", code, errs)
	}
	if code, _, _ := run(t); code != 2 {
		t.Errorf("no arguments: code %d, want 2", code)
	}
	if code, _, errs := run(t, "agreement", "check"); code != 2 || !strings.Contains(errs, "want one agreement FILE") {
		t.Errorf("check without FILE: code %d, stderr %q", code, errs)
	}
	if code, _, errs := run(t, "agreement", "locate", example, "48", "north"); code != 2 || !strings.Contains(errs, "decimal degrees") {
		t.Errorf("locate with a bad LON: code %d, stderr %q", code, errs)
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, tt := range []struct {
		args []string
		pos  []string
		json bool
	}{
		{[]string{"f.yaml", "48", "37"}, []string{"f.yaml", "48", "37"}, false},
		{[]string{"f.yaml", "-33.5", "-70.6", "-json"}, []string{"f.yaml", "-33.5", "-70.6"}, true},
		{[]string{"-json", "f.yaml", "-1", "2"}, []string{"f.yaml", "-1", "2"}, true},
		{[]string{"f.yaml", "--", "-json"}, []string{"f.yaml", "-json"}, false},
	} {
		fs := newFlagSet()
		j := fs.Bool("json", false, "")
		pos, err := parseInterspersed(fs, tt.args)
		if err != nil || !slices.Equal(pos, tt.pos) || *j != tt.json {
			t.Errorf("parseInterspersed(%q) = %q, json %v, err %v; want %q, json %v", tt.args, pos, *j, err, tt.pos, tt.json)
		}
	}
}

func TestAgreementCheck(t *testing.T) {
	code, out, errs := run(t, "agreement", "check", example)
	if code != 0 {
		t.Fatalf("check example: code %d, stderr %s", code, errs)
	}
	for _, want := range []string{
		"agreement donbas-demo, version 1: valid",
		"effective from 2026-11-01T00:00:00Z (010000Z NOV 26), open-ended",
		"UA  Ukraine",
		"vertices in 1 part(s), given",
		"withdrawal-artillery-100  withdrawal      25 km each side",
		"znpp                      protected_site  nuclear_power_plant, 5 km radius  78.5",
		"sectors (7):",
		"renewed aggression when 3 sector(s) are critical",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	// The 25 km band on each side of a 731 km line covers about
	// 2 × 25 × 731 km², less where the line bends: check the order of size.
	m := regexp.MustCompile(`line of contact: ([0-9.,]+) km`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no line length in:\n%s", out)
	}
	length, _ := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
	m = regexp.MustCompile(`withdrawal-artillery-100 .* 25 km each side\s+([0-9.,]+)`).FindStringSubmatch(out)
	area, _ := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
	if want := 2 * 25 * length; area < 0.9*want || area > 1.05*want {
		t.Errorf("25 km band area %.0f km², want about %.0f km² (2 × 25 km × %.0f km)", area, want, length)
	}
}

func TestAgreementCheckInvalid(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "agreement.yaml")
	if err := os.WriteFile(bad, []byte("id: Bad ID\nversion: 1\nparties:\n  - id: UA\n    name: U\n    side: up\nzones:\n  - id: z\n    kind: withdrawal\n    weapons: [trebuchet]\n    distance_km: -3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, "agreement", "check", bad)
	if code != 2 || out != "" {
		t.Fatalf("check invalid: code %d, stdout %q; want 2 and nothing", code, out)
	}
	for _, want := range []string{
		bad + " is not a valid agreement:",
		"agreement.yaml:1: agreement.id: \"Bad ID\" must be lower-case",
		"agreement.effective: is required",
		"agreement.parties: at least two parties are required, found 1",
		`agreement.yaml:6: parties[0] (UA).side: must be left or right`,
		`agreement.yaml:10: zones[0] (z).weapons: unknown weapon class "trebuchet"`,
		"agreement.yaml:11: zones[0] (z).distance_km: must be positive, not -3",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

func TestAgreementLocate(t *testing.T) {
	code, out, errs := run(t, "agreement", "locate", example, "48.7389", "37.5844", "-json")
	if code != 0 {
		t.Fatalf("locate: code %d, stderr %s", code, errs)
	}
	var got locateJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("locate -json: %v\n%s", err, out)
	}
	if got.Side == nil || *got.Side != "UA" || got.Sector == nil || got.LineDistanceM < 5e3 || got.LineDistanceM > 40e3 || !slices.Contains(got.Zones, "coalition-keep-out") {
		t.Errorf("Kramatorsk: %+v; want UA side, a sector, 5-40 km from the line, in the keep-out zone", got)
	}
	code, out, _ = run(t, "agreement", "locate", example, "47.5119", "34.5863")
	if code != 0 || !strings.Contains(out, "side    RU (Russian Federation)") || !strings.Contains(out, "znpp: Zaporizhzhia Nuclear Power Plant (protected_site, 0.00 km from the site") {
		t.Errorf("ZNPP: code %d, output:\n%s", code, out)
	}
	if code, _, errs := run(t, "agreement", "locate", example, "95", "37"); code != 2 || !strings.Contains(errs, "latitude 95") {
		t.Errorf("latitude 95: code %d, stderr %q", code, errs)
	}
}

// TestAgreementZones writes the zones as GeoJSON and checks it, then has
// GDAL's ogrinfo read it: an independent reader of RFC 7946.
func TestAgreementZones(t *testing.T) {
	out := filepath.Join(t.TempDir(), "zones.geojson")
	code, _, errs := run(t, "agreement", "zones", simple, "-o", out)
	if code != 0 {
		t.Fatalf("zones: code %d, stderr %s", code, errs)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Type       string         `json:"type"`
			Properties map[string]any `json:"properties"`
			Geometry   struct {
				Type        string           `json:"type"`
				Coordinates [][][][2]float64 `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	pieces := map[string]bool{}
	for _, f := range fc.Features {
		side, _ := f.Properties["side"].(string)
		pieces[f.Properties["zone"].(string)+"/"+side] = true
		if f.Geometry.Type != "MultiPolygon" {
			t.Errorf("geometry %s, want MultiPolygon", f.Geometry.Type)
		}
		for _, poly := range f.Geometry.Coordinates {
			for i, ring := range poly {
				if ring[0] != ring[len(ring)-1] || len(ring) < 4 {
					t.Errorf("zone %v ring %d not closed", f.Properties["zone"], i)
				}
			}
		}
		if f.Properties["kind"] == "withdrawal" && f.Properties["distance_km"] == nil {
			t.Errorf("withdrawal piece without distance_km: %v", f.Properties)
		}
	}
	// The simple agreement: four bands on both sides, no-fly on UA's side,
	// the sea on no side, the disengagement area across the line, the site
	// on RU's side.
	want := []string{"wz-art/UA", "wz-art/RU", "wz-mlrs/UA", "wz-mlrs/RU", "buffer/UA", "buffer/RU", "keep-out/UA", "keep-out/RU",
		"no-fly-west/UA", "sea/", "de-centre/UA", "de-centre/RU", "pump/RU"}
	for _, w := range want {
		if !pieces[w] {
			t.Errorf("no piece %s; have %v", w, pieces)
		}
	}
	if len(fc.Features) != len(want) {
		t.Errorf("%d features, want %d", len(fc.Features), len(want))
	}

	ogrinfo, err := exec.LookPath("ogrinfo")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ogrinfo (gdal-bin) is not installed; .ci/run must install it")
		}
		t.Skip("ogrinfo (gdal-bin) not installed: skipping the GDAL check")
	}
	cmd := exec.Command(ogrinfo, "-ro", "-al", "-so", out)
	msg, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, msg)
	}
	text := string(msg)
	if strings.Contains(strings.ToLower(text), "warning") || strings.Contains(text, "ERROR") {
		t.Errorf("ogrinfo complained:\n%s", text)
	}
	if !strings.Contains(text, "Feature Count: "+strconv.Itoa(len(want))) || !strings.Contains(text, "Geometry: Multi Polygon") {
		t.Errorf("ogrinfo did not read %d multipolygons:\n%s", len(want), text)
	}
	// GEOS, through GDAL's SQLite dialect, must find every polygon valid.
	msg, err = exec.Command(ogrinfo, "-ro", "-q", "-dialect", "SQLite", "-sql",
		"SELECT count(*) AS n, sum(ST_IsValid(geometry)) AS valid FROM zones", out).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo ST_IsValid: %v\n%s", err, msg)
	}
	if n := strconv.Itoa(len(want)); !strings.Contains(string(msg), "n (Integer) = "+n) || !strings.Contains(string(msg), "valid (Integer) = "+n) {
		t.Errorf("GEOS finds invalid polygons:\n%s", msg)
	}
	// The example too, with its many pieces.
	out2 := filepath.Join(t.TempDir(), "donbas.geojson")
	if code, _, errs := run(t, "agreement", "zones", example, "-o", out2); code != 0 {
		t.Fatalf("zones example: %d %s", code, errs)
	}
	msg, err = exec.Command(ogrinfo, "-ro", "-al", "-so", out2).CombinedOutput()
	if err != nil || strings.Contains(string(msg), "ERROR") || strings.Contains(strings.ToLower(string(msg)), "warning") {
		t.Errorf("ogrinfo on the example: %v\n%s", err, msg)
	}
}
