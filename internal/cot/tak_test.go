package cot

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

func goodEvent(t testing.TB) Event {
	t.Helper()
	ev, err := ParseXML([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// cotEventMsg wraps CotEvent fields in a TakMessage.
func cotEventMsg(fields []byte) []byte {
	b := protowire.AppendTag(nil, 2, protowire.BytesType)
	return protowire.AppendBytes(b, fields)
}

func TestDecodeTAKErrors(t *testing.T) {
	valid := MarshalTAK(goodEvent(t))
	inner, _ := protowire.ConsumeBytes(valid[1:])
	withField := func(extra []byte) []byte { return cotEventMsg(append(append([]byte{}, inner...), extra...)) }
	badUTF8 := protowire.AppendString(protowire.AppendTag(nil, 5, protowire.BytesType), "\xff\xfe")
	lat91 := protowire.AppendFixed64(protowire.AppendTag(nil, 10, protowire.Fixed64Type), 0x4056E00000000000) // 91.5
	xmlDetail := func(s string) []byte {
		d := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), s)
		return protowire.AppendBytes(protowire.AppendTag(nil, 15, protowire.BytesType), d)
	}
	tests := []struct {
		name    string
		in      []byte
		want    error
		message string
	}{
		{"empty", nil, ErrMissing, "cotEvent"},
		{"takControl only", []byte{0x0a, 0x00}, ErrMissing, "cotEvent"},
		{"truncated", valid[:len(valid)/2], ErrSyntax, ""},
		{"truncated tag", []byte{0x80}, ErrSyntax, ""},
		{"length overflow", []byte{0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, ErrSyntax, ""},
		{"group wire type", []byte{0x13, 0x14}, ErrSyntax, "wire type"},
		{"wrong wire type", []byte{0x10, 0x01}, ErrSyntax, "cotEvent"},
		{"invalid utf-8 uid", withField(badUTF8), ErrSyntax, "UTF-8"},
		{"lat out of range", withField(lat91), ErrRange, `point lat "91.5"`},
		{"missing uid", cotEventMsg(protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "a-f-G")), ErrMissing, "uid"},
		{"xmlDetail doctype", withField(xmlDetail(`<!DOCTYPE x>`)), ErrDTD, ""},
		{"xmlDetail escape", withField(xmlDetail(`</detail><x>`)), ErrSyntax, ""},
		{"too large", append(valid, make([]byte, DefaultMaxMessage)...), ErrTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := DecodeTAK(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v (event %+v), want %v", err, ev, tt.want)
			}
			if tt.message != "" && !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err, tt.message)
			}
		})
	}
}

func TestTAKIgnoresUnknownFields(t *testing.T) {
	valid := MarshalTAK(goodEvent(t))
	extra := protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 7)
	ev, err := DecodeTAK(append(extra, valid...))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "uid", ev.UID, "ANDROID-1234")
}

func TestTypedDetailYieldsToXMLDetail(t *testing.T) {
	// Per the protocol, an element present in xmlDetail wins over the typed
	// message for the same element.
	ev := goodEvent(t)
	ev.Callsign = "TYPED"
	msg := MarshalTAK(ev)
	inner, _ := protowire.ConsumeBytes(msg[1:])
	d := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), `<contact callsign="XML" phone="1"/>`)
	inner = append(inner, protowire.AppendBytes(protowire.AppendTag(nil, 15, protowire.BytesType), d)...)
	got, err := DecodeTAK(cotEventMsg(inner))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "callsign", got.Callsign, "XML")
}

func TestRoundTripBuilders(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	ring := []Point{{Lat: 48.1, Lon: 37.1}, {Lat: 48.2, Lon: 37.1}, {Lat: 48.2, Lon: 37.3}}
	tests := []struct {
		name  string
		ev    Event
		check func(t *testing.T, ev Event)
	}{
		{"marker", Marker("inc-1", "", Point{Lat: 48.15, Lon: 37.2}, "Shelling", "3 impacts", t0, time.Hour), func(t *testing.T, ev Event) {
			eq(t, "type", ev.Type, "b-m-p-s-m")
			eq(t, "remarks", ev.Remarks, "3 impacts")
			eq(t, "callsign", ev.Callsign, "Shelling")
			eq(t, "stale", ev.Stale, t0.Add(time.Hour))
			eq(t, "icon", bytes.Contains(ev.Detail, []byte(`iconsetpath="COT_MAPPING_SPOTMAP/b-m-p-s-m/-65536"`)), true)
		}},
		{"polygon", Polygon("zone-1", "Buffer zone", ring, Yellow, t0, time.Hour), func(t *testing.T, ev Event) {
			eq(t, "type", ev.Type, "u-d-f")
			eq(t, "closed", len(ev.Links), 4)
			eq(t, "first=last", *ev.Links[0].Point, *ev.Links[3].Point)
			eq(t, "stroke", bytes.Contains(ev.Detail, []byte(`<strokeColor value="-256"/>`)), true)
			eq(t, "fill", bytes.Contains(ev.Detail, []byte(`<fillColor value="1627389696"/>`)), true)
			eq(t, "centroid lat", ev.Point.Lat > 48.1 && ev.Point.Lat < 48.2, true)
		}},
		{"polyline", Polyline("loc-1", "Line of contact", ring, Red, t0, time.Hour), func(t *testing.T, ev Event) {
			eq(t, "open", len(ev.Links), 3)
			eq(t, "no fill", bytes.Contains(ev.Detail, []byte(`fillColor`)), false)
		}},
		{"circle", Circle("zone-2", "Exclusion", Point{Lat: 48.15, Lon: 37.2}, 1500, Red, t0, time.Hour), func(t *testing.T, ev Event) {
			eq(t, "type", ev.Type, "u-d-c-c")
			eq(t, "ellipse", *ev.Ellipse, Ellipse{1500, 1500, 360})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := validate(&tt.ev); err != nil {
				t.Fatalf("builder output invalid: %v", err)
			}
			tt.check(t, tt.ev)
			x, err := ParseXML(MarshalXML(tt.ev))
			if err != nil {
				t.Fatalf("ParseXML: %v\n%s", err, MarshalXML(tt.ev))
			}
			sameEvent(t, "xml", x, tt.ev)
			tt.check(t, x)
			p, err := DecodeTAK(MarshalTAK(x))
			if err != nil {
				t.Fatalf("DecodeTAK: %v", err)
			}
			sameEvent(t, "tak", p, tt.ev)
		})
	}
}

func TestColor(t *testing.T) {
	eq(t, "red", Red.String(), "-65536")
	eq(t, "white", White.String(), "-1")
	eq(t, "alpha", Blue.WithAlpha(0x96).String(), "-1778384641") // ATAK circle capture fillColor
}

func TestDecodeDatagram(t *testing.T) {
	payload := MarshalTAK(goodEvent(t))
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"xml", []byte("\n" + good), nil},
		{"mesh", AppendMesh(nil, payload), nil},
		{"stream framing is not mesh", AppendStream(nil, payload), ErrFraming},
		{"wrong magic", append([]byte{0xbe, 0x01, 0xbf}, payload...), ErrFraming},
		{"empty", nil, ErrFraming},
		{"oversized", append([]byte(good), make([]byte, DefaultMaxMessage)...), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := DecodeDatagram(tt.in, 0)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if err == nil {
				eq(t, "uid", ev.UID, "ANDROID-1234")
			}
		})
	}
}

func TestReader(t *testing.T) {
	ev := goodEvent(t)
	x := MarshalXML(ev)
	tak := AppendStream(nil, MarshalTAK(ev))
	junkTAK := AppendStream(nil, []byte{0x12, 0x03, 0x0a, 0x01}) // truncated cotEvent
	type step struct {
		uid string // expected uid, or "" for an error
		err error  // expected error (MessageError for recoverable ones)
	}
	ok := step{uid: "ANDROID-1234"}
	bad := func(err error) step { return step{err: err} }
	eof := step{err: io.EOF}
	tests := []struct {
		name  string
		in    []byte
		proto Protocol
		steps []step
	}{
		{"xml back to back", cat(x, []byte("\n"), x, []byte(good)), ProtoXML, []step{ok, ok, ok, eof}},
		{"xml bad message in the middle", cat(x, []byte(strings.Replace(good, `lat="50.1"`, `lat="99"`, 1)), x), ProtoXML,
			[]step{ok, bad(ErrRange), ok, eof}},
		{"xml garbage between", cat(x, []byte("garbage!!"), x), ProtoXML, []step{ok, bad(ErrSyntax), ok, eof}},
		{"xml truncated then resync", cat([]byte(good[:80]), x), ProtoXML, []step{bad(ErrSyntax), ok, eof}},
		{"xml doctype rejected, next ok", cat([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><event>&a;</event>`), x), ProtoXML,
			[]step{bad(ErrDTD), ok, eof}},
		{"xml no end", cat(x, []byte(good[:100])), ProtoXML, []step{ok, bad(io.ErrUnexpectedEOF)}},
		{"xml oversized", cat(x, []byte("<event "), bytes.Repeat([]byte("a"), 2*DefaultMaxMessage)), ProtoXML, []step{ok, bad(ErrTooLarge)}},
		{"xml endless garbage", cat(x, []byte(" x"), bytes.Repeat([]byte("z"), 2*DefaultMaxMessage)), ProtoXML, []step{ok, bad(ErrFraming)}},
		{"tak stream", cat(tak, tak), ProtoTAKStream, []step{ok, ok, eof}},
		{"tak bad payload skipped", cat(tak, junkTAK, tak), ProtoTAKStream, []step{ok, bad(ErrSyntax), ok, eof}},
		{"tak wrong magic", cat(tak, []byte{0xbe, 0x01, 0x00}), ProtoTAKStream, []step{ok, bad(ErrFraming)}},
		{"tak length overflow", cat(tak, []byte{0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}), ProtoTAKStream,
			[]step{ok, bad(ErrFraming)}},
		{"tak length too large", cat(tak, AppendStream(nil, make([]byte, DefaultMaxMessage+1))), ProtoTAKStream, []step{ok, bad(ErrTooLarge)}},
		{"tak truncated", cat(tak, tak[:len(tak)-5]), ProtoTAKStream, []step{ok, bad(io.ErrUnexpectedEOF)}},
		{"unknown first byte", []byte("GET / HTTP/1.1\r\n"), ProtoUnknown, []step{bad(ErrFraming)}},
		{"empty", nil, ProtoUnknown, []step{eof}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A one-byte-at-a-time reader exercises every refill path.
			for _, src := range []io.Reader{bytes.NewReader(tt.in), &oneByte{tt.in}} {
				r := NewReader(src, 0)
				for i, s := range tt.steps {
					ev, err := r.Next()
					if s.err == nil {
						if err != nil {
							t.Fatalf("step %d: %v", i, err)
						}
						eq(t, "uid", ev.UID, s.uid)
						continue
					}
					if !errors.Is(err, s.err) {
						t.Fatalf("step %d: got %v, want %v", i, err, s.err)
					}
					var me *MessageError
					final := !errors.As(err, &me)
					if i < len(tt.steps)-1 && final {
						t.Fatalf("step %d: error %v is final, want recoverable", i, err)
					}
				}
				eq(t, "protocol", r.Protocol(), tt.proto)
			}
		})
	}
}

type oneByte struct{ b []byte }

func (o *oneByte) Read(p []byte) (int, error) {
	if len(o.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = o.b[0]
	o.b = o.b[1:]
	return 1, nil
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
