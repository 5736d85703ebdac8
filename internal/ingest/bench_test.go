package ingest

import (
	"bytes"
	"io"
	"testing"
)

// The decoders over 10,000 generated records (a fixed seed), decoding and
// validating each. Run them with
//
//	go test -run '^$' -bench Decode -benchmem -cpu 1 ./internal/ingest
//
// records/s is the figure to compare with the budget of docs/ingest.md.

func BenchmarkDecodeNDJSON(b *testing.B)  { benchmarkDecode(b, NDJSON) }
func BenchmarkDecodeJSON(b *testing.B)    { benchmarkDecode(b, JSON) }
func BenchmarkDecodeCSV(b *testing.B)     { benchmarkDecode(b, CSV) }
func BenchmarkDecodeGeoJSON(b *testing.B) { benchmarkDecode(b, GeoJSON) }

func benchmarkDecode(b *testing.B, f Format) {
	const n = 10_000
	in := encode(f, generate(n, 42))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	records := 0
	for b.Loop() {
		d := NewDecoder(bytes.NewReader(in), f, testOpts)
		for {
			_, rej, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil || rej != nil {
				b.Fatal(rej, err)
			}
			records++
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}
