package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gowebpki/jcs"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// golden is an entry whose encoding below was written by hand from
// docs/journal.md and RFC 8785, not produced by Encode: keys sorted, no
// white space, '/' and non-ASCII as is, '"' and '\n' escaped, every real
// quantity in whole units.
func golden() Entry {
	return Entry{
		Seq:  42,
		Time: time.Date(2026, 3, 1, 10, 0, 0, 123000, time.UTC),
		Kind: KindObservation,
		Org:  "GBR",
		Observation: &truce.Observation{
			Source: "acoustic-1", SourceID: "a/1",
			Method: truce.MethodAcoustic, Category: truce.CategoryImpact, Weapon: truce.WeaponMLRS, Count: 3,
			Time:            time.Date(2026, 3, 1, 9, 58, 30, 0, time.UTC),
			TimeUncertainty: 90 * time.Second,
			Location:        &truce.Location{Point: geo.Point{Lat: 48.0123456, Lon: 37.7654321}, CEP: 150.25},
			FireBearing:     271.5, HasFireBearing: true,
			Reliability: 'B', Credibility: 2,
			Text:    "3 × \"Grad\"\n",
			Marking: truce.Marking{TLP: truce.TLPAmber, RelTo: []truce.OrgID{"UA"}},
		},
	}
}

const (
	goldenBytes = `{"kind":"observation","observation":{"category":"impact","count":3,"credibility":2,"fire_bearing_mdeg":271500,` +
		`"location":{"cep_mm":150250,"lat_e7":480123456,"lon_e7":377654321},"marking":{"rel_to":["UA"],"tlp":"AMBER"},` +
		`"method":"acoustic","reliability":"B","source":"acoustic-1","source_id":"a/1","text":"3 × \"Grad\"\n",` +
		`"time_uncertainty_us":90000000,"time_us":1772359110000000,"weapon":"mlrs"},"org":"GBR","seq":42,"time_us":1772359200000123}`
	// goldenSHA256 is sha256 of goldenBytes, computed outside Go.
	goldenSHA256 = "bf885315dbd1a60e0b9efa66967d345fd1ee3a4e861b723cc87a6cec0845e89f"
)

func TestGolden(t *testing.T) {
	e := golden()
	b, err := Encode(nil, &e)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != goldenBytes {
		t.Errorf("encode:\ngot  %s\nwant %s", b, goldenBytes)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != goldenSHA256 {
		t.Errorf("sha256: got %x, want %s", sum, goldenSHA256)
	}
	d, err := Decode([]byte(goldenBytes))
	if err != nil {
		t.Fatal(err)
	}
	want := golden()
	want.Observation.Location.Point = geo.Point{Lat: truce.Round(48.0123456, truce.DegreeUnit), Lon: truce.Round(37.7654321, truce.DegreeUnit)}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("decode: got %+v, want %+v", d, want)
	}
}

// gen makes random canonical entries.
type gen struct{ r *rand.Rand }

var textPool = []string{"a", "Z", " ", "\"", "\\", "/", "\x00", "\x01", "\b", "\t", "\n", "\f", "\r", "\x1f", "\x7f",
	"é", "×", "\u2028", "\u2029", "\ufeff", "😀", "🇺🇦", "Авдіївка", "中文", "<>&", "\u00a0"}

func (g *gen) text(n int) string {
	var b strings.Builder
	for range g.r.IntN(n + 1) {
		if g.r.IntN(4) == 0 {
			b.WriteRune(rune(0x20 + g.r.IntN(0xd7ff-0x20)))
		} else {
			b.WriteString(textPool[g.r.IntN(len(textPool))])
		}
	}
	return b.String()
}

func (g *gen) time() time.Time {
	return time.UnixMicro(g.r.Int64N(1<<52) - 1<<51).UTC()
}

func (g *gen) point() geo.Point {
	return geo.Point{Lat: -90 + 180*g.r.Float64(), Lon: -180 + 360*g.r.Float64()}
}

func (g *gen) entry(seq uint64) Entry {
	r := g.r
	e := Entry{Seq: seq, Time: g.time(), Org: truce.OrgID(g.text(3))}
	if r.IntN(4) == 0 {
		e.Kind = KindToken
		tok := &truce.Token{ID: g.text(4), Org: truce.OrgID(g.text(2)), Kind: truce.OrgKind(g.text(2)), Role: truce.Role(g.text(2)), Created: e.Time}
		if r.IntN(2) == 0 {
			tok.Label = g.text(8)
		}
		for i := range tok.Hash {
			tok.Hash[i] = byte(r.Uint32())
		}
		e.Token = tok
		return e
	}
	e.Kind = KindObservation
	o := truce.Observation{
		Source: g.text(5), SourceID: g.text(5), Method: truce.Method(g.text(2)), Category: truce.Category(g.text(2)),
		Count: r.IntN(1000) - 10, Time: g.time(), TimeUncertainty: time.Duration(r.Int64N(1<<40)) * time.Microsecond,
		Reliability: truce.Reliability('A' + r.IntN(6)), Credibility: truce.Credibility(r.IntN(8)),
		Marking: truce.Marking{TLP: truce.TLP(g.text(2))},
	}
	if r.IntN(2) == 0 {
		o.Weapon = truce.WeaponClass(g.text(3) + "w")
	}
	if r.IntN(2) == 0 {
		o.Party = truce.PartyID(g.text(2) + "p")
	}
	if r.IntN(2) == 0 {
		o.Text = g.text(20) + "t"
	}
	if r.IntN(2) == 0 {
		o.FireBearing, o.HasFireBearing = 360*r.Float64(), true
	}
	for range r.IntN(4) {
		o.Marking.RelTo = append(o.Marking.RelTo, truce.OrgID(g.text(3)))
	}
	if r.IntN(2) == 0 {
		o.Location = &truce.Location{Point: g.point(), CEP: 1e4 * r.Float64()}
	} else {
		o.Observer = &truce.Observer{Point: g.point(), Bearing: 360 * r.Float64(), DistanceMin: 1e3 * r.Float64(), DistanceMax: 1e5 * r.Float64()}
	}
	o = o.Canonical()
	e.Observation = &o
	return e
}

func TestRoundTrip(t *testing.T) {
	g := &gen{rand.New(rand.NewPCG(1, 2))}
	n := 5000
	if testing.Short() {
		n = 500
	}
	for i := range n {
		e := g.entry(uint64(g.r.Int64N(1 << 53)))
		b, err := Encode(nil, &e)
		if err != nil {
			t.Fatalf("entry %d: encode %+v: %v", i, e, err)
		}
		d, err := Decode(b)
		if err != nil {
			t.Fatalf("entry %d: decode %s: %v", i, b, err)
		}
		if !reflect.DeepEqual(d, e) {
			t.Fatalf("entry %d: decode(encode(e)):\ngot  %+v\nwant %+v\n%s", i, d, e, b)
		}
		c, err := jcs.Transform(b)
		if err != nil {
			t.Fatalf("entry %d: jcs: %v\n%s", i, err, b)
		}
		if !bytes.Equal(c, b) {
			t.Fatalf("entry %d: not RFC 8785 canonical:\ngot  %s\nwant %s", i, b, c)
		}
		// Encode appends to what dst holds.
		if b2, err := Encode([]byte("xy"), &e); err != nil || string(b2) != "xy"+string(b) {
			t.Fatalf("entry %d: encode after a prefix: got %q, %v", i, b2, err)
		}
	}
}

func TestDecodeRejectsNonCanonical(t *testing.T) {
	ctl := golden()
	ctl.Observation.Text = "esc\x1b"
	ctlBytes, err := Encode(nil, &ctl)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(ctlBytes, []byte(`"esc\u001b"`)) {
		t.Fatalf("control character: encoding %s lacks esc\\u001b", ctlBytes)
	}
	g := goldenBytes
	for _, tc := range []struct{ name, in string }{
		{"space after colon", strings.Replace(g, `"kind":`, `"kind": `, 1)},
		{"leading space", " " + g},
		{"trailing newline", g + "\n"},
		{"trailing garbage", g + "{}"},
		{"byte order mark", "\ufeff" + g},
		{"reordered keys", strings.Replace(g, `"org":"GBR","seq":42`, `"seq":42,"org":"GBR"`, 1)},
		{"key case", strings.Replace(g, `"org":`, `"ORG":`, 1)},
		{"unknown field", strings.TrimSuffix(g, "}") + `,"zzz":1}`},
		{"duplicate key", strings.TrimSuffix(g, "}") + `,"time_us":1772359200000123}`},
		{"1.0 for 1", strings.Replace(g, `"count":3`, `"count":3.0`, 1)},
		{"exponent", strings.Replace(g, `"count":3`, `"count":3e0`, 1)},
		{"leading zero", strings.Replace(g, `"count":3`, `"count":03`, 1)},
		{"plus sign", strings.Replace(g, `"count":3`, `"count":+3`, 1)},
		{"negative zero", strings.Replace(g, `"count":3`, `"count":-0`, 1)},
		{"number as string", strings.Replace(g, `"count":3`, `"count":"3"`, 1)},
		{"escaped slash", strings.Replace(g, `a/1`, `a\/1`, 1)},
		{"escaped non-ASCII", strings.Replace(g, `×`, `\u00d7`, 1)},
		{"newline as \\u000a", strings.Replace(g, `\n"`, `\u000a"`, 1)},
		{"uppercase \\u hex", strings.Replace(string(ctlBytes), `\u001b`, `\u001B`, 1)},
		{"control character raw", strings.Replace(string(ctlBytes), `\u001b`, "\x1b", 1)},
		{"tab as \\u0009", strings.Replace(string(ctlBytes), `\u001b`, `\u0009`, 1)},
		{"escaped letter", strings.Replace(g, `"GBR"`, `"\u0047BR"`, 1)},
		{"empty rel_to", strings.Replace(g, `"rel_to":["UA"],`, `"rel_to":[],`, 1)},
		{"absent optional written empty", strings.Replace(g, `"org":"GBR"`, `"org":"GBR","token":null`, 1)},
		{"null observation", `{"kind":"observation","observation":null,"org":"GBR","seq":1,"time_us":0}`},
		{"invalid UTF-8", strings.Replace(g, `GBR`, "G\xffR", 1)},
		{"uppercase token hash", `{"kind":"token","org":"JCCC","seq":1,"time_us":0,"token":{"hash":"` + strings.Repeat("AB", 32) + `","id":"x","kind":"nation","org":"GBR","role":"viewer"}}`},
		{"short token hash", `{"kind":"token","org":"JCCC","seq":1,"time_us":0,"token":{"hash":"abab","id":"x","kind":"nation","org":"GBR","role":"viewer"}}`},
		{"unknown kind", `{"kind":"rumour","org":"GBR","seq":1,"time_us":0}`},
		{"negative seq", strings.Replace(g, `"seq":42`, `"seq":-42`, 1)},
		{"seq beyond 2^53", strings.Replace(g, `"seq":42`, `"seq":9007199254740993`, 1)},
		{"not an object", `[]`},
		{"empty", ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in == g {
				t.Fatalf("variant equals the canonical bytes")
			}
			if e, err := Decode([]byte(tc.in)); err == nil {
				t.Errorf("decode %s: got %+v, want an error", tc.in, e)
			}
		})
	}
	if _, err := Decode([]byte(strings.Replace(goldenBytes, `"reliability":"B"`, `"reliability":"\u0042"`, 1))); !errors.Is(err, ErrNotCanonical) {
		t.Errorf("decode with an escaped letter: got %v, want ErrNotCanonical", err)
	}
}

func TestEncodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(e *Entry)
	}{
		{"invalid UTF-8 in text", func(e *Entry) { e.Observation.Text = "a\xffb" }},
		{"invalid UTF-8 in org", func(e *Entry) { e.Org = "\xc3" }},
		{"invalid UTF-8 in rel_to", func(e *Entry) { e.Observation.Marking.RelTo = []truce.OrgID{"\xed\xa0\x80"} }},
		{"entry time not in microseconds", func(e *Entry) { e.Time = e.Time.Add(1) }},
		{"observation time not in microseconds", func(e *Entry) { e.Observation.Time = e.Observation.Time.Add(999) }},
		{"count beyond 2^53", func(e *Entry) { e.Observation.Count = 1 << 53 }},
		{"count below -2^53", func(e *Entry) { e.Observation.Count = -1 << 53 }},
		{"seq beyond 2^53", func(e *Entry) { e.Seq = 1 << 53 }},
		{"seq beyond 2^63", func(e *Entry) { e.Seq = 1<<63 + 5 }},
		{"latitude out of range of the unit", func(e *Entry) { e.Observation.Location.Point.Lat = 1e10 }},
		{"time beyond 2^53 µs", func(e *Entry) { e.Time = time.UnixMicro(1 << 53).UTC() }},
		{"observation entry without observation", func(e *Entry) { e.Observation = nil }},
		{"token entry without token", func(e *Entry) { e.Kind = KindToken }},
		{"unknown kind", func(e *Entry) { e.Kind = "rumour" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := golden()
			tc.change(&e)
			dst := []byte("prefix")
			got, err := Encode(dst, &e)
			if err == nil {
				t.Errorf("encode: got %s, want an error", got)
			}
			if string(got) != "prefix" {
				t.Errorf("encode failing: dst became %q, want it unchanged", got)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(goldenBytes))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Encode(nil, &e)
		if err != nil {
			t.Fatalf("decoded %q, encode fails: %v", b, err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("decoded %q, re-encodes to %q", b, again)
		}
	})
}
