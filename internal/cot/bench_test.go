package cot

import "testing"

// Run with: go test -run '^$' -bench . -benchmem ./internal/cot

func BenchmarkParseXML(b *testing.B) {
	data := readCapture(b, "atak-pli.xml")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseXML(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeTAK(b *testing.B) {
	data := readCapture(b, "takproto-stream.bin")[3:]
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := DecodeTAK(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalTAK(b *testing.B) {
	ev, err := ParseXML(readCapture(b, "atak-pli.xml"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		MarshalTAK(ev)
	}
}
