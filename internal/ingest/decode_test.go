package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/truce"
)

var formats = []Format{JSON, NDJSON, CSV, GeoJSON}

// TestFormatsAgree decodes the same records written in every format and
// checks each gives what Validate gives for the record.
func TestFormatsAgree(t *testing.T) {
	ws := generate(500, 1)
	want := make([]truce.Observation, len(ws))
	for i := range ws {
		o, rej := Validate(&ws[i], testOpts)
		if rej != nil {
			t.Fatalf("generated record %d: %v", i, rej)
		}
		want[i] = o
	}
	for _, f := range formats {
		t.Run(string(f), func(t *testing.T) {
			rs, err := decodeAll(encode(f, ws), f, testOpts)
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != len(want) {
				t.Fatalf("got %d records, want %d", len(rs), len(want))
			}
			for i, r := range rs {
				if r.rej != nil {
					t.Fatalf("record %d: got %v, want no rejection", i, r.rej)
				}
				if !reflect.DeepEqual(r.obs, want[i]) {
					t.Fatalf("record %d: got %+v, want %+v", i, r.obs, want[i])
				}
			}
		})
	}
}

// TestOneByteReads decodes through a reader that returns one byte at a
// time, which exercises every chunk boundary.
func TestOneByteReads(t *testing.T) {
	ws := generate(20, 2)
	for _, f := range formats {
		in := encode(f, ws)
		d := NewDecoder(iotest.OneByteReader(bytes.NewReader(in)), f, testOpts)
		n := 0
		for {
			_, rej, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil || rej != nil {
				t.Fatalf("%s: record %d: got %v, %v", f, n, rej, err)
			}
			n++
		}
		if n != len(ws) {
			t.Errorf("%s: got %d records, want %d", f, n, len(ws))
		}
	}
}

type wantRej struct {
	index, line int
	field       string
	reason      string // substring
}

func checkRejections(t *testing.T, rs []result, good int, want []wantRej) {
	t.Helper()
	var got []*Rejection
	n := 0
	for i, r := range rs {
		if r.rej == nil {
			n++
			continue
		}
		if r.rej.Index != i {
			t.Errorf("rejection %v: got index %d, want %d", r.rej, r.rej.Index, i)
		}
		got = append(got, r.rej)
	}
	if n != good {
		t.Errorf("got %d good records, want %d", n, good)
	}
	if len(got) != len(want) {
		t.Fatalf("got rejections %v, want %d", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Index != w.index || g.Line != w.line || g.Field != w.field || !strings.Contains(g.Reason, w.reason) {
			t.Errorf("got %d, %d, %q, %q; want %d, %d, %q, …%s…", g.Index, g.Line, g.Field, g.Reason, w.index, w.line, w.field, w.reason)
		}
	}
}

const good = `{"source":"s","source_id":"%d","method":"seen","category":"impact","time":"2026-11-25T19:00:00Z","lat":48,"lon":37,"cep_m":100}`

func rec(i int) string { return fmt.Sprintf(good, i) }

func TestRejections(t *testing.T) {
	tests := []struct {
		name string
		f    Format
		in   string
		good int
		want []wantRej
	}{
		{"ndjson", NDJSON, rec(0) + "\n\n" + `{"source":"s","source_id":"1","method":"seen","category":"impact","time":"2026-11-25T19:00:00Z","lat":91,"lon":37,"cep_m":100}` + "\n" +
			rec(2) + "\n" + `{"lat":"north"}` + "\n" + `{"source":"s","colour":"red"}` + "\r\n   \n" + `not json` + "\n" + rec(6), 3, []wantRej{
			{1, 3, "lat", "91 is outside [-90, 90]"},
			{3, 5, "lat", "want a number, got string"},
			{4, 6, "colour", "unknown field"},
			{5, 8, "", "is not valid JSON"},
		}},
		{"ndjson nested type error", NDJSON, `{"observer":{"lat":"x"}}` + "\n" + `{"distance_m":[1,"a"]}` + "\n" + `{"count":1.5}` + "\n" + `{"marking":{"tlp":"RED","rel_to":[1]}}` + "\n" + `[1]`, 0, []wantRej{
			{0, 1, "observer.lat", "want a number, got string"},
			{1, 2, "distance_m[1]", "want a number, got string"},
			{2, 3, "count", "want a whole number, got 1.5"},
			{3, 4, "marking.rel_to[0]", "want a string, got number"},
			{4, 5, "", "want an object, got array"},
		}},
		{"ndjson bad utf8", NDJSON, "{\"source\":\"\xff\"}", 0, []wantRej{{0, 1, "", "not valid UTF-8"}}},
		{"json", JSON, "[\n" + rec(0) + ",\n" + `{"source":"s","source_id":"1","method":"seen","category":"impact","time":"2026-11-25T19:00:00Z",` + "\n" + `"lat":48,"lon":37}` + ",\n" + rec(2) + ",\n 17,\n" + rec(4) + "\n]\n", 3, []wantRej{
			{1, 3, "cep_m", "required"},
			{3, 6, "", "want an object, got number"},
		}},
		{"json one object", JSON, "\n\n" + rec(0) + "\n", 1, nil},
		{"json empty array", JSON, " [ ] ", 0, nil},
		{"json trailing data", JSON, "[" + rec(0) + "] x", 1, []wantRej{{1, 1, "", `unexpected 'x' after the end of the JSON`}}},
		{"json missing comma", JSON, "[" + rec(0) + "\n" + rec(1) + "]", 1, []wantRej{{1, 2, "", `unexpected '{' after a record, want ',' or ']'`}}},
		{"json trailing comma", JSON, "[" + rec(0) + ",]", 1, []wantRej{{1, 1, "", `unexpected ']' where a record should be`}}},
		{"json strings with brackets", JSON, `[{"source":"s]}\"{","source_id":"x","method":"seen","category":"impact","time":"2026-11-25T19:00:00Z","lat":48,"lon":37,"cep_m":100,"text":"a\\\"}]\"{"}` + ",\n" + rec(1) + "]", 2, nil},
		{"csv", CSV, "source,source_id,method,category,time,lat,lon,cep_m,observer_lat,observer_lon,bearing_deg,distance_min_m,distance_max_m,tlp,rel_to\n" +
			"s,0,seen,impact,2026-11-25T19:00:00Z,48,37,100,,,,,,RED,UA;GBR\n" +
			"s,1,seen,impact,2026-11-25T19:00:00Z,,,,48,37,400,100,,,\n" +
			"s,2,seen,impact,2026-11-25T19:00:00Z,,,,48,37,10,100,200,AMBER,\n" +
			"s,3,seen,impact,2026-11-25T19:00:00Z,NaN,37,100,,,,,,,\n" +
			"s,4,seen,impact,2026-11-25T19:00:00Z,abc,37,100,,,,,,,\n" +
			"\"s\nt\",5,seen,impact,2026-11-25T19:00:00Z,48,37,100,,,,,,,\n" +
			"s,6,seen,impact\n" +
			"s,7,seen,impact,2026-11-25T19:00:00Z,,,,91,37,10,100,200,AMBER,\n" +
			"s,8,seen,impact,2026-11-25T19:00:00Z,48,37,100,,,,,,BLUE,\n" +
			"s,9,seen,impact,2026-11-25T19:00:00Z,48,37,100,,,,,,RED,a b\n", 2, []wantRej{
			{1, 3, "distance_max_m", "required with distance_min_m"},
			{3, 5, "lat", "want a finite number, got NaN"},
			{4, 6, "lat", `want a number, got "abc"`},
			{5, 7, "source", "control character U+000A"},
			{6, 9, "", "has 4 cells, want 15"},
			{7, 10, "observer_lat", "91 is outside"},
			{8, 11, "tlp", `unknown TLP label "BLUE"`},
			{9, 12, "rel_to", `"a b" is not an organisation id`},
		}},
		{"csv bare quote", CSV, "source,source_id,method,category,time,lat,lon,cep_m\ns,0,seen,impact,2026-11-25T19:00:00Z,48,37,100\ns,x\"y,seen\n" +
			"s,2,seen,impact,2026-11-25T19:00:00Z,48,37,100\n", 2, []wantRej{{1, 3, "", "is not valid CSV"}}},
		{"geojson", GeoJSON, `{"type":"FeatureCollection","features":[` + "\n" +
			`{"type":"Feature","geometry":{"type":"Point","coordinates":[37,48]},"properties":{"source":"s","source_id":"0","method":"seen","category":"impact","time":"2026-11-25T19:00:00Z","cep_m":5}},` + "\n" +
			`{"type":"Feature","geometry":{"type":"LineString","coordinates":[[37,48],[37,49]]},"properties":{"source":"s","source_id":"1","method":"seen","category":"impact","time":"2026-11-25T19:00:00Z","cep_m":5}},` + "\n" +
			`{"type":"Feature","geometry":{"type":"Point","coordinates":[37,95]},"properties":{"source":"s","source_id":"2","method":"seen","category":"impact","time":"2026-11-25T19:00:00Z","cep_m":5}},` + "\n" +
			`{"type":"Feature","geometry":{"type":"Point","coordinates":[37,48]},"properties":{"lat":1}},` + "\n" +
			`{"type":"Feature","geometry":{"type":"Point","coordinates":[37,48]},"properties":{"count":"x"}},` + "\n" +
			`{"type":"Feature","geometry":null,"properties":{"source":"s","source_id":"5","method":"heard","category":"impact","time":"2026-11-25T19:00:00Z","observer":{"lat":48,"lon":37},"bearing_deg":90,"distance_m":[0,500]}},` + "\n" +
			`{"type":"Feature","geometry":{"type":"Point","coordinates":[37]},"properties":{}},` + "\n" +
			`{"type":"Feature","geometry":{"type":"Point","coordinates":[37,48]},"properties":null},` + "\n" +
			`{"type":"Feature","geometry":{"type":"Point","coordinates":[37,48]},"properties":{},"style":{}},` + "\n" +
			`{"type":"Thing"}` + "\n" +
			`],"crs":{"nested":[1,{"a":"]"}]}}`, 2, []wantRej{
			{1, 3, "geometry", `is a "LineString", want a "Point"`},
			{2, 4, "geometry.coordinates[1]", "95 is outside [-90, 90]"},
			{3, 5, "properties.lat", "not allowed"},
			{4, 6, "count", "want a whole number, got string"},
			{6, 8, "geometry.coordinates", "want [lon, lat]"},
			{7, 9, "properties", "required"},
			{8, 10, "style", "unknown field"},
			{9, 11, "type", `"Thing", want "Feature"`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := decodeAll([]byte(tt.in), tt.f, testOpts)
			if err != nil {
				t.Fatal(err)
			}
			checkRejections(t, rs, tt.good, tt.want)
		})
	}
}

func TestTruncated(t *testing.T) {
	ws := generate(3, 3)
	for _, f := range formats {
		in := encode(f, ws)
		// Cut inside the third record.
		cut := bytes.LastIndex(in, []byte(`"time"`))
		if f == CSV {
			cut = len(in) - 30
		}
		t.Run(string(f), func(t *testing.T) {
			rs, err := decodeAll(in[:cut], f, testOpts)
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 3 || rs[0].rej != nil || rs[1].rej != nil || rs[2].rej == nil {
				t.Fatalf("got %v, want 2 records then a rejection", rs)
			}
			t.Log(rs[2].rej)
		})
	}
	// Cut after a complete record: the missing end is reported.
	for _, tt := range []struct {
		f      Format
		in     string
		reason string
	}{
		{JSON, "[" + rec(0) + ",", "ends before the closing ']'"},
		{JSON, "[" + rec(0), "ends before the closing ']'"},
		{GeoJSON, `{"type":"FeatureCollection","features":[]`, "ends before the closing '}'"},
		{GeoJSON, `{"type":"FeatureCollection","features":[],"bbox":[1,`, "ends inside member bbox"},
	} {
		rs, err := decodeAll([]byte(tt.in), tt.f, testOpts)
		if err != nil {
			t.Fatal(err)
		}
		last := rs[len(rs)-1].rej
		if last == nil || !strings.Contains(last.Reason, tt.reason) {
			t.Errorf("%s %q: got %v, want a rejection …%s…", tt.f, tt.in, last, tt.reason)
		}
	}
}

func TestOversize(t *testing.T) {
	opts := Options{Now: now, MaxRecordBytes: 1000}
	big := `{"source":"s","source_id":"big","method":"seen","category":"impact","time":"2026-11-25T19:00:00Z","lat":48,"lon":37,"cep_m":100,"text":"` + strings.Repeat("x", 200_000) + `"}`
	tests := []struct {
		f    Format
		in   string
		good int
		line int
	}{
		{NDJSON, rec(0) + "\n" + big + "\n" + rec(2) + "\n", 2, 2},
		{JSON, "[" + rec(0) + ",\n" + big + ",\n" + rec(2) + "]", 2, 2},
		{GeoJSON, `{"type":"FeatureCollection","features":[` + "\n" + `{"type":"Feature","properties":` + big + "}]}", 0, 2},
		// CSV stops at an oversize row: its end cannot be found without reading it.
		{CSV, "source,source_id,method,category,time,lat,lon,cep_m,text\ns,0,seen,impact,2026-11-25T19:00:00Z,48,37,100,\ns,1,seen,impact,2026-11-25T19:00:00Z,48,37,100," + strings.Repeat("x", 200_000) + "\ns,2,seen,impact,2026-11-25T19:00:00Z,48,37,100,\n", 1, 3},
		{CSV, "source,source_id,method,category,time,lat,lon,cep_m,text\ns,1,seen,impact,2026-11-25T19:00:00Z,48,37,100," + strings.Repeat("x", 2000) + "\ns,2,seen,impact,2026-11-25T19:00:00Z,48,37,100,\n", 1, 2},
	}
	for _, tt := range tests {
		rs, err := decodeAll([]byte(tt.in), tt.f, opts)
		if err != nil {
			t.Fatalf("%s: %v", tt.f, err)
		}
		var rej *Rejection
		n := 0
		for _, r := range rs {
			if r.rej != nil {
				rej = r.rej
			} else {
				n++
			}
		}
		if n != tt.good || rej == nil || rej.Line != tt.line || !strings.Contains(rej.Reason, "1000") {
			t.Errorf("%s: got %d good records and %v, want %d and a rejection at line %d naming the limit", tt.f, n, rej, tt.good, tt.line)
		}
	}
}

func TestFormatErrors(t *testing.T) {
	tests := []struct {
		f    Format
		in   string
		want string
	}{
		{JSON, "", "empty"},
		{JSON, "  x", "begins with 'x'"},
		{GeoJSON, "[]", "not with the '{' of a FeatureCollection"},
		{GeoJSON, `{"type":"Feature","geometry":null}`, `the type is "Feature"`},
		{GeoJSON, `{"features":[]}`, `no "type"`},
		{GeoJSON, `{"type":"FeatureCollection"}`, `no "features"`},
		{GeoJSON, `{"type":"FeatureCollection","features":{}}`, `"features" is not an array`},
		{CSV, "", "empty"},
		{CSV, "source,source_id,method,category,time,colour\n", `unknown column "colour"`},
		{CSV, "source,source_id,method,category\n", `no column "time"`},
		{CSV, "source,source,method,category,time\n", `"source" appears twice`},
		{Format("xml"), "<a/>", "unknown format"},
	}
	for _, tt := range tests {
		_, err := decodeAll([]byte(tt.in), tt.f, testOpts)
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %q: got %v, want ErrFormat …%s…", tt.f, tt.in, err, tt.want)
		}
	}
	// GeoJSON whose type comes after the features: records, then the error.
	rs, err := decodeAll([]byte(`{"features":[{"type":"Feature","geometry":null,"properties":{}}],"type":"Topology"}`), GeoJSON, testOpts)
	if len(rs) != 1 || !errors.Is(err, ErrFormat) {
		t.Errorf("got %v, %v, want 1 record then ErrFormat", rs, err)
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("connection reset")
	for _, f := range formats {
		in := encode(f, generate(2, 4))
		d := NewDecoder(io.MultiReader(bytes.NewReader(in[:len(in)/2]), iotest.ErrReader(boom)), f, testOpts)
		var err error
		for err == nil {
			_, _, err = d.Next()
		}
		if !errors.Is(err, boom) || errors.Is(err, ErrFormat) {
			t.Errorf("%s: got %v, want the read error", f, err)
		}
		if _, _, again := d.Next(); again != err {
			t.Errorf("%s: got %v after the error, want it again", f, again)
		}
	}
}

func TestFormatOf(t *testing.T) {
	for _, tt := range []struct {
		mt   string
		want Format
	}{
		{"application/json", JSON}, {"Application/JSON", JSON}, {"application/x-ndjson", NDJSON},
		{"application/ndjson", NDJSON}, {"application/jsonl", NDJSON}, {"text/csv", CSV},
		{"application/geo+json", GeoJSON},
	} {
		if got, ok := FormatOfMediaType(tt.mt); !ok || got != tt.want {
			t.Errorf("FormatOfMediaType(%q): got %q, %v, want %q", tt.mt, got, ok, tt.want)
		}
	}
	if _, ok := FormatOfMediaType("text/plain"); ok {
		t.Errorf("FormatOfMediaType(text/plain): got ok, want not")
	}
	for _, f := range formats {
		if got, ok := FormatOfMediaType(f.MediaType()); !ok || got != f {
			t.Errorf("FormatOfMediaType(%s.MediaType()): got %q, want %q", f, got, f)
		}
	}
	for _, tt := range []struct {
		name, head string
		want       Format
	}{
		{"a.json", "", JSON}, {"a.NDJSON", "", NDJSON}, {"a.jsonl", "", NDJSON}, {"x/a.csv", "", CSV}, {"a.geojson", "", GeoJSON},
		{"data", "\ufeff  [", JSON},
		{"data", `{"type": "FeatureCollection", "features": []}`, GeoJSON},
		{"data", "{\"a\":1}\n{\"a\":2}\n", NDJSON},
		{"data", "{\n  \"a\": 1\n}\n", JSON},
		{"data", "source,source_id,method\n", CSV},
	} {
		got, err := FormatOfFile(tt.name, []byte(tt.head))
		if err != nil || got != tt.want {
			t.Errorf("FormatOfFile(%q, %q): got %q, %v, want %q", tt.name, tt.head, got, err, tt.want)
		}
	}
	if _, err := FormatOfFile("notes.txt", []byte("hello")); !errors.Is(err, ErrFormat) {
		t.Errorf("FormatOfFile(notes.txt): got %v, want ErrFormat", err)
	}
}

// generator writes n NDJSON (or JSON array) records without holding them.
type generator struct {
	rec   []byte
	n, i  int
	array bool
	buf   []byte
}

func (g *generator) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		if g.i > g.n {
			return 0, io.EOF
		}
		switch {
		case g.i == g.n && g.array:
			g.buf = []byte("]\n")
		case g.i == g.n:
		case g.array && g.i == 0:
			g.buf = append([]byte("[\n"), g.rec...)
		case g.array:
			g.buf = append([]byte(",\n"), g.rec...)
		default:
			g.buf = append(g.rec, '\n')
		}
		g.i++
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

func TestConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 300,000 records")
	}
	const n, bound = 300_000, 32 << 20
	w := wire()
	w.Text = strings.Repeat("padding ", 100)
	rec := marshal(&w)
	for _, f := range []Format{NDJSON, JSON} {
		g := &generator{rec: rec, n: n, array: f == JSON}
		d := NewDecoder(g, f, testOpts)
		count, maxHeap := 0, uint64(0)
		var ms runtime.MemStats
		for {
			_, rej, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil || rej != nil {
				t.Fatal(rej, err)
			}
			count++
			if count%50_000 == 0 {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				maxHeap = max(maxHeap, ms.HeapInuse)
			}
		}
		if count != n {
			t.Errorf("%s: got %d records, want %d", f, count, n)
		}
		if maxHeap > bound {
			t.Errorf("%s: heap in use reached %d bytes over %d MB of input, want under %d", f, maxHeap, n*len(rec)>>20, bound)
		}
		t.Logf("%s: %d MB streamed, heap in use at most %d KB", f, n*len(rec)>>20, maxHeap>>10)
	}
}

func TestDocsListVocabularies(t *testing.T) {
	doc, err := os.ReadFile("../../docs/ingest.md")
	if err != nil {
		t.Fatal(err)
	}
	var terms []truce.Term
	for _, ts := range [][]truce.Term{truce.Methods(), truce.Categories(), truce.TLPs(), truce.WeaponClasses()} {
		terms = append(terms, ts...)
	}
	for _, term := range terms {
		if !bytes.Contains(doc, []byte("`"+term.Name+"`")) {
			t.Errorf("docs/ingest.md does not list `%s`", term.Name)
		}
	}
	for _, col := range CSVColumns {
		if !bytes.Contains(doc, []byte("`"+col+"`")) {
			t.Errorf("docs/ingest.md does not name the CSV column `%s`", col)
		}
	}
}

var _ = api.Observation{}
