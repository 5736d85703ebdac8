package journal

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gowebpki/jcs"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// TestDocumentedExample keeps docs/journal.md honest: its example entry is
// canonical and means what the document says.
func TestDocumentedExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/journal.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```json\n")
	if !ok {
		t.Fatal("docs/journal.md has no ```json example")
	}
	example, _, _ := strings.Cut(rest, "\n```")
	e, err := Decode([]byte(example))
	if err != nil {
		t.Fatalf("the documented example does not decode: %v", err)
	}
	o := e.Observation
	if e.Seq != 1 || e.Kind != KindObservation || o == nil || o.Count != 3 || o.Observer != nil || o.Location == nil || o.Location.CEP != 250 || o.Location.Point.Lat != 48.015 {
		t.Errorf("documented example decodes to %+v, %+v", e, o)
	}
	if got, want := e.Time.Format("2006-01-02T15:04:05.000000Z"), "2026-11-25T19:01:00.123456Z"; got != want {
		t.Errorf("time_us: got %s, want %s", got, want)
	}
}

// go test ./internal/journal -run '^$' -bench Decode -benchmem
func BenchmarkDecode(b *testing.B) {
	raw := []byte(`{"kind":"observation","observation":{"category":"explosion","count":3,"credibility":2,"location":{"cep_mm":250000,"lat_e7":480150000,"lon_e7":377850000},"marking":{"rel_to":["GBR","UA"],"tlp":"AMBER"},"method":"heard","reliability":"B","source":"smm-team-7","source_id":"2026-11-25/0042","text":"three explosions heard","time_uncertainty_us":60000000,"time_us":1795633200000000,"weapon":"artillery_100mm_plus"},"org":"coalition","seq":1,"time_us":1795633260123456}`)
	for b.Loop() {
		if _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// TestDerivedEntries: level changes and triggers encode canonically, round
// trip, and have keys that make a second derivation a duplicate.
func TestDerivedEntries(t *testing.T) {
	at := time.Date(2026, 11, 25, 21, 0, 0, 0, time.UTC)
	for _, e := range []Entry{
		{Seq: 7, Time: at, Kind: KindLevel, Org: "coalition", Level: &truce.LevelChange{Sector: "S3", From: truce.LevelTense, To: truce.LevelSerious, At: at, Scores: []float64{12.5, 40}}},
		{Seq: 8, Time: at, Kind: KindTrigger, Org: "coalition", Trigger: &truce.Trigger{Fired: true, At: at, Critical: []string{"S1", "S3", "S4"}}},
		{Seq: 9, Time: at, Kind: KindTrigger, Org: "coalition", Trigger: &truce.Trigger{At: at}},
		{Seq: 10, Time: at, Kind: KindWindow, Org: "coalition", Window: &truce.SilenceWindow{ID: "w1", Name: "pump repair", Center: geo.Pt(48.2, 36.1), Radius: 2000,
			Period: truce.TimeRange{From: at, Until: at.Add(4 * time.Hour)}, Acknowledged: true}},
		{Seq: 11, Time: at, Kind: KindWindow, Org: "coalition", Window: &truce.SilenceWindow{ID: "w2", Center: geo.Pt(-48.2, -36.1), Radius: 150.5, Period: truce.TimeRange{From: at}}},
	} {
		b, err := Encode(nil, &e)
		if err != nil {
			t.Fatal(err)
		}
		if tb, err := jcs.Transform(b); err != nil || !bytes.Equal(tb, b) {
			t.Errorf("entry %d is not RFC 8785 canonical: %s", e.Seq, b)
		}
		d, err := Decode(b)
		if err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		if !reflect.DeepEqual(d, e) {
			t.Errorf("round trip of %s:\ngot  %+v\nwant %+v", b, d, e)
		}
		if k, ok := e.Key(); !ok || k == (Key{}) {
			t.Errorf("entry %d has no key", e.Seq)
		}
		if got := e.Marking(); got.TLP != truce.TLPGreen {
			t.Errorf("entry %d: marking %v, want TLP:GREEN", e.Seq, got)
		}
	}
	want := `{"kind":"sector_level","level":{"at_us":1795640400000000,"from":"TENSE","scores_e3":[12500,40000],"sector":"S3","to":"SERIOUS"},"org":"coalition","seq":7,"time_us":1795640400000000}`
	e := Entry{Seq: 7, Time: at, Kind: KindLevel, Org: "coalition", Level: &truce.LevelChange{Sector: "S3", From: truce.LevelTense, To: truce.LevelSerious, At: at, Scores: []float64{12.5, 40}}}
	if b, _ := Encode(nil, &e); string(b) != want {
		t.Errorf("level entry:\ngot  %s\nwant %s", b, want)
	}
	want = `{"kind":"silence_window","org":"coalition","seq":10,"time_us":1795640400000000,"window":{"center":{"lat_e7":482000000,"lon_e7":361000000},"from_us":1795640400000000,"id":"w1","name":"pump repair","radius_mm":2000000,"state":"acknowledged","until_us":1795654800000000}}`
	e = Entry{Seq: 10, Time: at, Kind: KindWindow, Org: "coalition", Window: &truce.SilenceWindow{ID: "w1", Name: "pump repair", Center: geo.Pt(48.2, 36.1), Radius: 2000,
		Period: truce.TimeRange{From: at, Until: at.Add(4 * time.Hour)}, Acknowledged: true}}
	if b, _ := Encode(nil, &e); string(b) != want {
		t.Errorf("window entry:\ngot  %s\nwant %s", b, want)
	}
}
