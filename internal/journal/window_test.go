package journal

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gowebpki/jcs"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// windowAt is the recording time of the window entries below.
var windowAt = time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)

// requestedWindow is a window requested through the API, with what the
// request adds to the older form: purpose, requester and time.
func requestedWindow() truce.SilenceWindow {
	return truce.SilenceWindow{ID: "w-1a2b3c", Name: "Vodiane water main", Purpose: "repair of the water main at Vodiane",
		Center: geo.Pt(48.2, 36.1), Radius: 1500, Period: truce.TimeRange{From: windowAt.Add(time.Hour), Until: windowAt.Add(5 * time.Hour)},
		RequestedBy: "MISSION", Requested: windowAt}
}

// windowAcksBytes is the encoding of requestedWindow acknowledged by UA,
// written by hand: "acks" sorts before "center", "purpose" after "name",
// "requested_by" and "requested_us" after "radius_mm".
const windowAcksBytes = `{"kind":"silence_window","org":"UA","seq":12,"time_us":1795640400000000,"window":{"acks":["UA"],` +
	`"center":{"lat_e7":482000000,"lon_e7":361000000},"from_us":1795644000000000,"id":"w-1a2b3c","name":"Vodiane water main",` +
	`"purpose":"repair of the water main at Vodiane","radius_mm":1500000,"requested_by":"MISSION","requested_us":1795640400000000,` +
	`"state":"requested","until_us":1795658400000000}}`

func TestWindowAcks(t *testing.T) {
	w := requestedWindow()
	w.Acks = []truce.PartyID{"UA"}
	e := Entry{Seq: 12, Time: windowAt, Kind: KindWindow, Org: "UA", Window: &w}
	b, err := Encode(nil, &e)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != windowAcksBytes {
		t.Errorf("encode:\ngot  %s\nwant %s", b, windowAcksBytes)
	}
	if c, err := jcs.Transform(b); err != nil || !bytes.Equal(c, b) {
		t.Errorf("not RFC 8785 canonical: %s (%v)", b, err)
	}
	d, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d, e) {
		t.Errorf("decode:\ngot  %+v\nwant %+v", d.Window, e.Window)
	}
}

// TestWindowOldForm: an entry of the form before acks, purpose and
// requester still decodes, re-encodes to the same bytes and keeps the key
// it had.
func TestWindowOldForm(t *testing.T) {
	const old = `{"kind":"silence_window","org":"coalition","seq":10,"time_us":1795640400000000,"window":{"center":{"lat_e7":482000000,"lon_e7":361000000},"from_us":1795640400000000,"id":"w1","name":"pump repair","radius_mm":2000000,"state":"acknowledged","until_us":1795654800000000}}`
	e, err := Decode([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	w := e.Window
	if w.Acks != nil || w.Purpose != "" || w.RequestedBy != "" || !w.Requested.IsZero() || !w.Acknowledged {
		t.Errorf("decoded %+v, want an acknowledged window without acks, purpose or requester", w)
	}
	if b, err := Encode(nil, &e); err != nil || string(b) != old {
		t.Errorf("re-encode: got %s, %v, want the same bytes", b, err)
	}
	// The key as it was made before windows had acks.
	want := derivedKey("silence_window", "w1", "acknowledged", "pump repair", fmt.Sprint(48.2, 36.1, 2000.0),
		"2026-11-25T21:00:00Z", "2026-11-26T01:00:00Z")
	if k, ok := e.Key(); !ok || k != want {
		t.Errorf("key: got %x, want %x", k, want)
	}
}

// TestWindowKeys: every acknowledgement is an entry of its own; the same
// one again is a duplicate.
func TestWindowKeys(t *testing.T) {
	key := func(w truce.SilenceWindow) Key {
		e := Entry{Kind: KindWindow, Org: "coalition", Window: &w}
		k, ok := e.Key()
		if !ok {
			t.Fatalf("window %+v has no key", w)
		}
		return k
	}
	parties := []truce.PartyID{"RU", "UA"}
	requested := requestedWindow()
	byUA := requestedWindow()
	byUA.Acknowledge("UA", parties)
	byBoth := byUA
	byBoth.Acknowledge("RU", parties)
	if !byBoth.Acknowledged || byUA.Acknowledged {
		t.Fatalf("acknowledged: by UA %v, by both %v; want false, true", byUA.Acknowledged, byBoth.Acknowledged)
	}
	byRU := requestedWindow()
	byRU.Acknowledge("RU", parties)
	keys := map[Key]string{}
	for name, w := range map[string]truce.SilenceWindow{"requested": requested, "by UA": byUA, "by RU": byRU, "by both": byBoth} {
		k := key(w)
		if other, ok := keys[k]; ok {
			t.Errorf("%s and %s have the same key", name, other)
		}
		keys[k] = name
	}
	again := requestedWindow()
	again.Acknowledge("UA", parties)
	if key(again) != key(byUA) {
		t.Errorf("the same acknowledgement twice: keys differ, want a duplicate")
	}
}

func TestWindowRejects(t *testing.T) {
	encode := func(acks ...truce.PartyID) error {
		w := requestedWindow()
		w.Acks = acks
		_, err := Encode(nil, &Entry{Seq: 1, Time: windowAt, Kind: KindWindow, Org: "UA", Window: &w})
		return err
	}
	for _, acks := range [][]truce.PartyID{{"UA", "RU"}, {"UA", "UA"}} {
		if err := encode(acks...); err == nil {
			t.Errorf("encode acks %q: got no error, want one", acks)
		}
	}
	for _, tc := range []struct{ name, in string }{
		{"empty acks", strings.Replace(windowAcksBytes, `"acks":["UA"],`, `"acks":[],`, 1)},
		{"unsorted acks", strings.Replace(windowAcksBytes, `"acks":["UA"]`, `"acks":["UA","RU"]`, 1)},
		{"repeated ack", strings.Replace(windowAcksBytes, `"acks":["UA"]`, `"acks":["UA","UA"]`, 1)},
		{"empty purpose", strings.Replace(windowAcksBytes, `"purpose":"repair of the water main at Vodiane"`, `"purpose":""`, 1)},
		{"null requested_us", strings.Replace(windowAcksBytes, `"requested_us":1795640400000000`, `"requested_us":null`, 1)},
		{"unknown state", strings.Replace(windowAcksBytes, `"state":"requested"`, `"state":"agreed"`, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in == windowAcksBytes {
				t.Fatal("variant equals the canonical bytes")
			}
			if e, err := Decode([]byte(tc.in)); err == nil {
				t.Errorf("decode %s: got %+v, want an error", tc.in, e.Window)
			}
		})
	}
}

// TestWindowRoundTrip: random windows, with and without the optional
// fields, round trip and are RFC 8785 canonical.
func TestWindowRoundTrip(t *testing.T) {
	g := &gen{rand.New(rand.NewPCG(3, 4))}
	n := 2000
	if testing.Short() {
		n = 200
	}
	parties := []truce.PartyID{"A", "RU", "UA", "Ω"}
	for i := range n {
		w := truce.SilenceWindow{ID: g.text(4), Center: g.point(), Radius: truce.Round(2e4*g.r.Float64(), truce.MetreUnit),
			Period: truce.TimeRange{From: g.time()}, Acknowledged: g.r.IntN(2) == 0}
		w.Center = geo.Point{Lat: truce.Round(w.Center.Lat, truce.DegreeUnit), Lon: truce.Round(w.Center.Lon, truce.DegreeUnit)}
		if g.r.IntN(2) == 0 {
			w.Name = g.text(6) + "n"
		}
		if g.r.IntN(2) == 0 {
			w.Period.Until = g.time()
		}
		if g.r.IntN(2) == 0 {
			w.Purpose, w.RequestedBy, w.Requested = g.text(10)+"p", truce.OrgID(g.text(2)+"o"), g.time()
		}
		for _, p := range parties {
			if g.r.IntN(2) == 0 {
				w.Acknowledge(p, nil)
			}
		}
		e := Entry{Seq: uint64(i + 1), Time: g.time(), Kind: KindWindow, Org: truce.OrgID(g.text(3)), Window: &w}
		b, err := Encode(nil, &e)
		if err != nil {
			t.Fatalf("window %d: encode %+v: %v", i, w, err)
		}
		if c, err := jcs.Transform(b); err != nil || !bytes.Equal(c, b) {
			t.Fatalf("window %d: not RFC 8785 canonical:\ngot  %s\nwant %s (%v)", i, b, c, err)
		}
		d, err := Decode(b)
		if err != nil {
			t.Fatalf("window %d: decode %s: %v", i, b, err)
		}
		if !reflect.DeepEqual(d, e) {
			t.Fatalf("window %d: round trip of %s:\ngot  %+v\nwant %+v", i, b, d.Window, e.Window)
		}
	}
}
