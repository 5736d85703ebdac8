package cot

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func readCapture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "captures", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCaptures parses every genuine capture (see testdata/captures/README.md)
// and checks values read from the files by eye.
func TestCaptures(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, ev Event)
	}{
		{"atak-pli.xml", func(t *testing.T, ev Event) {
			eq(t, "uid", ev.UID, "ANDROID-53af0912586418dc")
			eq(t, "type", ev.Type, "a-f-G-U-C")
			eq(t, "how", ev.How, "h-e")
			eq(t, "time", ev.Time, mustTime(t, "2020-08-29T21:14:00.406Z"))
			eq(t, "stale", ev.Stale, mustTime(t, "2020-08-29T21:15:15.406Z"))
			eq(t, "point", ev.Point, Point{39.71401955573084, -104.99452709918448, 1586.245787738948, 9999999, 9999999})
			eq(t, "callsign", ev.Callsign, "dasuberdog")
			eq(t, "endpoint", ev.Endpoint, "192.168.1.159:4242:tcp")
			eq(t, "group", *ev.Group, Group{Name: "Orange", Role: "Team Lead"})
			eq(t, "takv", *ev.Takv, Takv{Device: "GOOGLE PIXEL 4 XL", Platform: "ATAK-CIV", OS: "29", Version: "4.0.0.7 (a457ad0d).1597850931-CIV"})
			eq(t, "location", *ev.Location, PrecisionLocation{GeoPointSrc: "USER", AltSrc: "DTED2"})
			eq(t, "battery", ev.Battery, 58)
			eq(t, "course", ev.Course, 327.66875837972367)
			eq(t, "speed", ev.Speed, 0.0)
			eq(t, "friendly", ev.IsFriendly(), true)
			eq(t, "affiliation", ev.Affiliation(), "f")
			eq(t, "ce unknown", IsUnknown(ev.Point.CE), true)
			eq(t, "hae unknown", IsUnknown(ev.Point.HAE), false)
			eq(t, "detail", string(ev.Detail), `<uid Droid='dasuberdog'/>`)
		}},
		{"wintak-hq.xml", func(t *testing.T, ev Event) {
			eq(t, "uid", ev.UID, "aa0b0312-b5cd-4c2c-bbbc-9c4c70216261")
			eq(t, "type", ev.Type, "a-f-G-E-V-C")
			eq(t, "lat", ev.Point.Lat, 43.97957317)
			eq(t, "lon", ev.Point.Lon, -66.07737696)
			eq(t, "hae", ev.Point.HAE, 26.767999)
			eq(t, "callsign", ev.Callsign, "Eliopoli HQ")
			eq(t, "group", *ev.Group, Group{Name: "Yellow", Role: "HQ"})
			eq(t, "platform", ev.Takv.Platform, "WinTAK-CIV")
			eq(t, "os", ev.Takv.OS, "Microsoft Windows 10 Home")
			eq(t, "battery", ev.Battery, 100)
			eq(t, "course", ev.Course, 0.0)
		}},
		{"itak-pli.xml", func(t *testing.T, ev Event) {
			eq(t, "uid", ev.UID, "C94B9215-9BD4-4DBE-BDE1-83625F09153F")
			eq(t, "time", ev.Time, mustTime(t, "2023-07-18T15:23:09Z"))
			eq(t, "how", ev.How, "m-g")
			eq(t, "callsign", ev.Callsign, "DFPC-iSchmidt")
			eq(t, "platform", ev.Takv.Platform, "iTAK")
			eq(t, "course", ev.Course, 137.23542786)
			eq(t, "ce unknown", IsUnknown(ev.Point.CE), true)
			// contact has a phone attribute we do not model: kept verbatim.
			eq(t, "contact verbatim", bytes.Contains(ev.Detail, []byte(`phone="7204258729"`)), true)
		}},
		{"atak-rectangle-u-d-r.xml", func(t *testing.T, ev Event) {
			eq(t, "type", ev.Type, "u-d-r")
			eq(t, "callsign", ev.Callsign, "Rectangle 1")
			eq(t, "remarks", ev.Remarks, "Nice")
			eq(t, "links", len(ev.Links), 4)
			eq(t, "link 0", *ev.Links[0].Point, Point{39.734374690892466, -105.000951756657, 1583.000100853604, Unknown, Unknown})
			eq(t, "link 2", *ev.Links[2].Point, Point{39.72685459182151, -104.98916936139345, Unknown, Unknown, Unknown})
			eq(t, "stroke kept", bytes.Contains(ev.Detail, []byte(`<strokeColor value='-16744704'/>`)), true)
			eq(t, "friendly", ev.IsFriendly(), false)
		}},
		{"atak-circle-u-d-c-c.xml", func(t *testing.T, ev Event) {
			eq(t, "type", ev.Type, "u-d-c-c")
			eq(t, "callsign", ev.Callsign, "Drawing Circle 1")
			eq(t, "ellipse", *ev.Ellipse, Ellipse{Major: 10.557862958543073, Minor: 10.557862958543073, Angle: 360})
			eq(t, "lat", ev.Point.Lat, 39.52907656661326)
			eq(t, "style link kept", bytes.Contains(ev.Detail, []byte(`b-x-KmlStyle`)), true)
			eq(t, "shape links not vertices", len(ev.Links), 0)
		}},
		{"atak-freehand-inner-u-d-f.xml", func(t *testing.T, ev Event) {
			eq(t, "type", ev.Type, "u-d-f")
			eq(t, "callsign", ev.Callsign, "Freehand 2")
			eq(t, "links", len(ev.Links), 7)
			eq(t, "last link", *ev.Links[6].Point, Point{39.52886154615329, -105.75730454619509, Unknown, Unknown, Unknown})
		}},
		{"atak-freehand-u-d-f-m.xml", func(t *testing.T, ev Event) {
			eq(t, "type", ev.Type, "u-d-f-m")
			eq(t, "remarks", ev.Remarks, "But")
			eq(t, "links", len(ev.Links), 1)
			// The escaped inner event stays escaped inside the verbatim link.
			eq(t, "inner kept", bytes.Contains(ev.Detail, []byte(`&lt;event version=&apos;2.0&apos;`)), true)
		}},
		{"atak-route-b-m-r.xml", func(t *testing.T, ev Event) {
			eq(t, "type", ev.Type, "b-m-r")
			eq(t, "callsign", ev.Callsign, "Route 7")
			eq(t, "links", len(ev.Links), 11)
			eq(t, "link uid", ev.Links[10].UID, "37b4e06d-d8ab-4e7c-b6e1-5a689a8b04ff")
			eq(t, "link type", ev.Links[10].Type, "b-m-p-w")
			eq(t, "link relation", ev.Links[10].Relation, "c")
			eq(t, "link hae", ev.Links[10].Point.HAE, 3097.669497337116)
		}},
		{"atak-hostile-marker-a-h-G.xml", func(t *testing.T, ev Event) {
			eq(t, "type", ev.Type, "a-h-G")
			eq(t, "affiliation", ev.Affiliation(), "h")
			eq(t, "how", ev.How, "h-g-i-g-o")
			eq(t, "ce", ev.Point.CE, 30.0)
			eq(t, "callsign", ev.Callsign, "Red Market")
			eq(t, "remarks", ev.Remarks, "Remarks about these bitches")
			eq(t, "link", ev.Links[0].UID, "ANDROID-53af0912586418dc")
			eq(t, "link relation", ev.Links[0].Relation, "p-p")
			eq(t, "battery absent", ev.Battery, 0)
			eq(t, "track absent", ev.HasTrack(), false)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data := readCapture(t, tt.file)
			ev, err := ParseXML(data)
			if err != nil {
				t.Fatalf("ParseXML: %v", err)
			}
			tt.check(t, ev)

			// XML round trip keeps every field.
			back, err := ParseXML(MarshalXML(ev))
			if err != nil {
				t.Fatalf("ParseXML(MarshalXML): %v", err)
			}
			sameEvent(t, "xml round trip", back, ev)

			// XML -> TAK -> event keeps every field.
			tak, err := DecodeTAK(MarshalTAK(ev))
			if err != nil {
				t.Fatalf("DecodeTAK(MarshalTAK): %v", err)
			}
			tt.check(t, tak)
		})
	}
}

// TestTAKCaptures decodes the takproto protobuf fixtures in both framings.
func TestTAKCaptures(t *testing.T) {
	check := func(t *testing.T, ev Event) {
		eq(t, "uid", ev.UID, "aa0b0312-b5cd-4c2c-bbbc-9c4c70216261")
		eq(t, "type", ev.Type, "a-f-G-E-V-C")
		eq(t, "how", ev.How, "h-e")
		eq(t, "time", ev.Time, mustTime(t, "2020-02-08T18:10:44Z"))
		eq(t, "stale", ev.Stale, mustTime(t, "2020-02-08T18:11:11Z"))
		eq(t, "point", ev.Point, Point{43.97957317, -66.07737696, 26.767999, 9999999, 9999999})
		eq(t, "callsign", ev.Callsign, "Eliopoli HQ")
		eq(t, "endpoint", ev.Endpoint, "192.168.1.10:4242:tcp")
		eq(t, "group", *ev.Group, Group{Name: "Yellow", Role: "HQ"})
		eq(t, "battery", ev.Battery, 100)
		eq(t, "takv", *ev.Takv, Takv{Device: "LENOVO 20QV0007US", Platform: "WinTAK-CIV", OS: "Microsoft Windows 10 Home", Version: "1.10.0.137"})
		eq(t, "track", [2]float64{ev.Course, ev.Speed}, [2]float64{0, 0})
		eq(t, "detail", string(ev.Detail), `<uid Droid="Eliopoli HQ" /><another test="1" />`)
	}
	t.Run("stream", func(t *testing.T) {
		r := NewReader(bytes.NewReader(readCapture(t, "takproto-stream.bin")), 0)
		ev, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		eq(t, "protocol", r.Protocol(), ProtoTAKStream)
		check(t, ev)
		if _, err := r.Next(); err == nil || err.Error() != "EOF" {
			t.Errorf("second Next: got %v, want EOF", err)
		}
	})
	t.Run("mesh", func(t *testing.T) {
		ev, err := DecodeDatagram(readCapture(t, "takproto-mesh.bin"), 0)
		if err != nil {
			t.Fatal(err)
		}
		check(t, ev)
		// Re-encoding and decoding keeps every field.
		back, err := DecodeTAK(MarshalTAK(ev))
		if err != nil {
			t.Fatal(err)
		}
		sameEvent(t, "tak round trip", back, ev)
	})
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// sameEvent compares every field of two events.
func sameEvent(t *testing.T, what string, got, want Event) {
	t.Helper()
	nan := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	ok := got.UID == want.UID && got.Type == want.Type && got.How == want.How &&
		got.Access == want.Access && got.QoS == want.QoS && got.Opex == want.Opex &&
		got.Time.Equal(want.Time) && got.Start.Equal(want.Start) && got.Stale.Equal(want.Stale) &&
		got.Point == want.Point && got.Callsign == want.Callsign && got.Endpoint == want.Endpoint &&
		eqPtr(got.Group, want.Group) && eqPtr(got.Takv, want.Takv) && eqPtr(got.Location, want.Location) &&
		eqPtr(got.Ellipse, want.Ellipse) && got.Battery == want.Battery &&
		nan(got.Course, want.Course) && nan(got.Speed, want.Speed) && got.Remarks == want.Remarks &&
		bytes.Equal(got.Detail, want.Detail) && len(got.Links) == len(want.Links)
	for i := 0; ok && i < len(got.Links); i++ {
		g, w := got.Links[i], want.Links[i]
		ok = g.UID == w.UID && g.Type == w.Type && g.Relation == w.Relation && eqPtr(g.Point, w.Point)
	}
	if !ok {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func eqPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
