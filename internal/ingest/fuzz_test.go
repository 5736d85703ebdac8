package ingest

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/truce-dev/truce/internal/api"
)

// The fuzz targets check, for any input, that a decoder never panics, ends,
// returns only valid observations (validating one's wire form again gives
// the same observation), and numbers records in increasing order. Run one
// with
//
//	go test -run '^$' -fuzz '^FuzzNDJSON$' -fuzztime 45s ./internal/ingest
//
// and keep what it finds in testdata/fuzz/FuzzNDJSON.

func FuzzJSON(f *testing.F)    { fuzzDecode(f, JSON) }
func FuzzNDJSON(f *testing.F)  { fuzzDecode(f, NDJSON) }
func FuzzCSV(f *testing.F)     { fuzzDecode(f, CSV) }
func FuzzGeoJSON(f *testing.F) { fuzzDecode(f, GeoJSON) }

func fuzzDecode(f *testing.F, format Format) {
	f.Add(encode(format, generate(3, 7)))
	f.Add(encode(format, nil))
	switch format {
	case JSON:
		f.Add([]byte(rec(0)))
		f.Add([]byte(`[{"a":"]\"}"}, 1, [[]], "x"]`))
		f.Add([]byte("[" + rec(0) + ",]"))
		f.Add([]byte(`[{"source":"s","source_id":"1","method":"heard","category":"burst","time":"2026-11-25T19:00:00Z","observer":{"lat":90,"lon":-180},"bearing_deg":359.9999,"distance_m":[0,100000],"fire_bearing_deg":0,"marking":{"tlp":"tlp:red","rel_to":["b","a","b"]}}]`))
	case NDJSON:
		f.Add([]byte(rec(0) + "\r\n\n  \n" + rec(1)))
		f.Add([]byte(`{"lat":"x"}` + "\n" + `{"colour":1}`))
		f.Add([]byte(`{"source":"s","source_id":"1","method":"seen","category":"impact","time":"2026-11-25T20:17:59.9999996Z","time_uncertainty_s":604799.9999999,"lat":-90,"lon":180,"cep_m":0.0005}`))
	case CSV:
		f.Add([]byte("source,source_id,method,category,time,lat,lon,cep_m\ns,0,seen,impact,2026-11-25T19:00:00Z,48,37,100\n"))
		f.Add([]byte("source,source_id,method,category,time,observer_lat,observer_lon,bearing_deg,distance_min_m,distance_max_m,rel_to,tlp\ns,0,seen,impact,2026-11-25T19:00:00Z,1,2,3,4,5,a;b,red\n\"x\n"))
		f.Add([]byte("\ufeffsource,source_id,method,category,time,lat,lon,cep_m\ns,0,seen,impact,2026-11-25T19:00:00Z,NaN,Inf,1e400\n"))
	case GeoJSON:
		f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[37,48,100]},"properties":{"source":"s","source_id":"0","method":"seen","category":"impact","time":"2026-11-25T19:00:00Z","cep_m":5}}]}`))
		f.Add([]byte(`{"bbox":[1,2],"features":[{"type":"Feature","geometry":null,"properties":{}}],"type":"FeatureCollection","x":{"y":"}"}}`))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		opts := Options{Now: now, MaxRecordBytes: 4096}
		d := NewDecoder(bytes.NewReader(in), format, opts)
		index := -1
		for n := 0; ; n++ {
			if n > len(in)+2 {
				t.Fatalf("more records than bytes of input: %d", n)
			}
			o, rej, err := d.Next()
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrFormat) {
					t.Fatalf("got error %v, want io.EOF or ErrFormat", err)
				}
				if _, _, again := d.Next(); again != err {
					t.Fatalf("after %v: got %v", err, again)
				}
				return
			}
			index++
			if rej != nil {
				if rej.Index != index {
					t.Fatalf("got rejection index %d, want %d", rej.Index, index)
				}
				if rej.Line < 1 || rej.Reason == "" {
					t.Fatalf("got rejection %+v, want a line and a reason", rej)
				}
				continue
			}
			w := api.FromObservation(&o)
			again, rej := Validate(&w, opts)
			if rej != nil {
				t.Fatalf("record %d: %+v re-validates to rejection %v", index, w, rej)
			}
			if !reflect.DeepEqual(again, o) {
				t.Fatalf("record %d: got %+v, re-validated %+v", index, o, again)
			}
		}
	})
}
