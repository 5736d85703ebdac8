package geo

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDecodeFeatures(t *testing.T) {
	doc := `{"type":"FeatureCollection","features":[
	 {"type":"Feature","id":"a","properties":{},"geometry":{"type":"Polygon","coordinates":[[[35,47],[36,47],[36,48],[35,47]]]}},
	 {"type":"Feature","properties":{"id":"b"},"geometry":{"type":"Polygon","coordinates":[[[35,47],[36,47],[36,48],[35,47.5]]]}},
	 {"type":"Feature","properties":{"id":7},"geometry":{"type":"LineString","coordinates":[[35,47],[36,48]]}},
	 {"type":"Feature","properties":{},"geometry":null},
	 {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[35,95]}},
	 {"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[35,47],[36,47],[35,47]]]}},
	 {"type":"Feature","properties":{},"geometry":{"type":"GeometryCollection","geometries":[]}},
	 {"type":"Feture","properties":{},"geometry":{"type":"Point","coordinates":[35,47]}}
	]}`
	features, bad, err := DecodeFeatures([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(features) != 2 {
		t.Fatalf("got %d good features, want 2 (a and 7)", len(features))
	}
	if features[0].ID != "a" || len(features[0].Geometry.Polygons) != 1 || len(features[0].Geometry.Polygons[0][0]) != 3 {
		t.Errorf("feature a = %+v, want one triangle stored open", features[0])
	}
	if features[1].ID != "7" || len(features[1].Geometry.Lines) != 1 {
		t.Errorf("feature 2 = %+v, want line with id 7", features[1])
	}
	wants := []string{
		"feature 1 (b): ring 0 is not closed",
		"feature 3: feature has no geometry",
		"feature 4: position 0: latitude 95",
		"feature 5: ring 0 has 3 positions",
		"feature 6: ",
		`feature 7: "type" is "Feture"`,
	}
	if len(bad) != len(wants) {
		t.Fatalf("got %d bad features %v, want %d", len(bad), bad, len(wants))
	}
	for i, w := range wants {
		if !strings.HasPrefix(bad[i].Error(), w) {
			t.Errorf("bad[%d] = %q, want prefix %q", i, bad[i].Error(), w)
		}
	}
}

func TestDecodeFeaturesWholeDocument(t *testing.T) {
	for _, tt := range []struct{ doc, want string }{
		{`[1,2]`, "not a GeoJSON object"},
		{`{"type":"Topology"}`, "unsupported GeoJSON type"},
		{`{"features":[]}`, `no "type"`},
		{`{"type":"FeatureCollection"}`, `no "features"`},
		{strings.Repeat("[", 100) + strings.Repeat("]", 100), "nesting"},
		{`{"type":"Feature"`, "not a GeoJSON object"},
	} {
		if _, _, err := DecodeFeatures([]byte(tt.doc)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DecodeFeatures(%.30q): err = %v, want %q", tt.doc, err, tt.want)
		}
	}
	// A bare geometry is one feature.
	fs, bad, err := DecodeFeatures([]byte(`{"type":"MultiLineString","coordinates":[[[35,47],[36,48]],[[37,47],[38,48]]]}`))
	if err != nil || len(bad) != 0 || len(fs) != 1 || len(fs[0].Geometry.Lines) != 2 {
		t.Errorf("bare MultiLineString: %v %v %v", fs, bad, err)
	}
}

func TestEncodeFeatureCollection(t *testing.T) {
	// A clockwise shell with a counter-clockwise hole: the encoder must
	// rewind both (RFC 7946 section 3.1.6) and close the rings.
	shell := Ring{Pt(47, 35), Pt(49, 35), Pt(49, 37), Pt(47, 37)}
	hole := Ring{Pt(47.5, 35.5), Pt(47.5, 36.5), Pt(48.5, 36.5), Pt(48.5, 35.5)}
	data, err := EncodeFeatureCollection([]OutFeature{{Properties: map[string]any{"zone": "z"}, Polygons: MultiPolygon{{shell, hole}}}})
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Type     string
		Features []struct {
			Properties map[string]any
			Geometry   struct {
				Type        string
				Coordinates [][][][2]float64
			}
		}
	}
	if err := json.Unmarshal(data, &fc); err != nil {
		t.Fatal(err)
	}
	g := fc.Features[0].Geometry
	if fc.Type != "FeatureCollection" || g.Type != "MultiPolygon" || fc.Features[0].Properties["zone"] != "z" {
		t.Fatalf("unexpected document %s", data)
	}
	for i, ring := range g.Coordinates[0] {
		if ring[0] != ring[len(ring)-1] {
			t.Errorf("ring %d is not closed", i)
		}
		s := 0.0
		for j := 0; j+1 < len(ring); j++ {
			s += ring[j][0]*ring[j+1][1] - ring[j+1][0]*ring[j][1]
		}
		if ccw := s > 0; ccw != (i == 0) {
			t.Errorf("ring %d counter-clockwise = %v, want %v", i, ccw, i == 0)
		}
	}
	// It reads back.
	fs, bad, err := DecodeFeatures(data)
	if err != nil || len(bad) != 0 || len(fs) != 1 || len(fs[0].Geometry.Polygons[0]) != 2 {
		t.Errorf("round trip: %v %v %v", fs, bad, err)
	}
}

// FuzzDecodeFeatures checks that no input makes the decoder panic, and that
// whatever it accepts as polygons it can write out and read back.
func FuzzDecodeFeatures(f *testing.F) {
	seeds, _ := filepath.Glob("../agreement/testdata/simple/*.geojson")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"type":"Point","coordinates":[1,2]}`))
	f.Add([]byte(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		features, _, err := DecodeFeatures(data)
		if err != nil {
			return
		}
		var out []OutFeature
		for _, ft := range features {
			if ft.Geometry.Polygons != nil {
				out = append(out, OutFeature{Polygons: ft.Geometry.Polygons})
			}
		}
		enc, err := EncodeFeatureCollection(out)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		back, bad, err := DecodeFeatures(enc)
		if err != nil || len(back) != len(out) {
			t.Fatalf("round trip: %d features back of %d, bad %v, err %v", len(back), len(out), bad, err)
		}
	})
}
