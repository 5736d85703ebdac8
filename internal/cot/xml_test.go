package cot

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

const good = `<event version="2.0" uid="ANDROID-1234" type="a-f-G-U-C" how="m-g" time="2024-05-01T12:00:00Z" start="2024-05-01T12:00:00Z" stale="2024-05-01T12:05:00Z"><point lat="50.1" lon="30.5" hae="9999999.0" ce="9999999.0" le="9999999.0"/><detail><contact callsign="ALPHA"/></detail></event>`

func TestParseXMLErrors(t *testing.T) {
	deep := strings.Repeat("<a>", MaxDepth) + strings.Repeat("</a>", MaxDepth)
	tests := []struct {
		name    string
		in      string
		want    error
		message string // substring of the error text, if set
	}{
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>` +
			strings.Replace(good, "ALPHA", "&lol2;", 1), ErrDTD, ""},
		{"external entity", `<?xml version="1.0"?><!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
			strings.Replace(good, "ALPHA", "&xxe;", 1), ErrDTD, ""},
		{"doctype only", `<!doctype event>` + good, ErrDTD, ""},
		{"undeclared entity", strings.Replace(good, "ALPHA", "&foo;", 1), ErrSyntax, ""},
		{"too large", good + strings.Repeat(" ", DefaultMaxMessage), ErrTooLarge, ""},
		{"deep nesting", strings.Replace(good, "<detail>", "<detail>"+deep, 1), ErrTooDeep, ""},
		{"lat out of range", strings.Replace(good, `lat="50.1"`, `lat="91.5"`, 1), ErrRange,
			`cot: event "ANDROID-1234": point lat "91.5": out of range`},
		{"lon out of range", strings.Replace(good, `lon="30.5"`, `lon="-180.1"`, 1), ErrRange, `point lon "-180.1"`},
		{"lat NaN", strings.Replace(good, `lat="50.1"`, `lat="NaN"`, 1), ErrRange, `point lat "NaN"`},
		{"no lat", strings.Replace(good, `lat="50.1"`, ``, 1), ErrMissing, `point lat: missing`},
		{"no point", strings.Replace(good, `<point lat="50.1" lon="30.5" hae="9999999.0" ce="9999999.0" le="9999999.0"/>`, ``, 1), ErrMissing, `point: missing`},
		{"no uid", strings.Replace(good, `uid="ANDROID-1234"`, ``, 1), ErrMissing, `uid: missing`},
		{"no type", strings.Replace(good, `type="a-f-G-U-C"`, ``, 1), ErrMissing, `type: missing`},
		{"no stale", strings.Replace(good, `stale="2024-05-01T12:05:00Z"`, ``, 1), ErrMissing, `stale: missing`},
		{"bad time", strings.Replace(good, `time="2024-05-01T12:00:00Z"`, `time="yesterday"`, 1), ErrRange, `time "yesterday"`},
		{"bad battery", strings.Replace(good, `<contact`, `<status battery="-3"/><contact`, 1), ErrRange, `status battery "-3"`},
		{"bad link point", strings.Replace(good, `<contact`, `<link point="1,2,3,4"/><contact`, 1), ErrRange, `link point`},
		{"wrong root", `<evil/>`, ErrSyntax, "root element <evil>"},
		{"truncated", good[:len(good)-10], ErrSyntax, ""},
		{"trailing element", good + `<event/>`, ErrSyntax, "after </event>"},
		{"empty", ``, ErrSyntax, ""},
		{"latin1", `<?xml version="1.0" encoding="ISO-8859-1"?>` + good, ErrSyntax, ""},
		{"mismatched tags", strings.Replace(good, `</detail>`, `</details>`, 1), ErrSyntax, ""},
		{"processing instruction", strings.Replace(good, `<detail>`, `<detail><?php x?>`, 1), ErrSyntax, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := ParseXML([]byte(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v (event %+v), want %v", err, ev, tt.want)
			}
			if tt.message != "" && !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err, tt.message)
			}
			if !strings.HasPrefix(err.Error(), "cot: ") {
				t.Errorf("error %q lacks the cot: prefix", err)
			}
		})
	}
}

func TestParseXMLAccepts(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, ev Event)
	}{
		{"plain", good, func(t *testing.T, ev Event) {
			eq(t, "callsign", ev.Callsign, "ALPHA")
			eq(t, "track absent", math.IsNaN(ev.Course) && math.IsNaN(ev.Speed), true)
			eq(t, "stale", ev.Stale, time.Date(2024, 5, 1, 12, 5, 0, 0, time.UTC))
		}},
		{"bom and declaration", "\xef\xbb\xbf<?xml version='1.0' encoding='utf-8'?>\n" + good, func(t *testing.T, ev Event) {
			eq(t, "uid", ev.UID, "ANDROID-1234")
		}},
		{"comment and cdata", strings.Replace(good, `<detail>`, `<detail><!-- note --><x><![CDATA[<b>]]></x>`, 1), func(t *testing.T, ev Event) {
			eq(t, "detail", string(ev.Detail), `<x><![CDATA[<b>]]></x>`)
		}},
		{"predefined entities", strings.Replace(good, `ALPHA`, `A&amp;B &lt;1&gt;`, 1), func(t *testing.T, ev Event) {
			eq(t, "callsign", ev.Callsign, "A&B <1>")
		}},
		{"missing hae defaults to unknown", strings.Replace(good, ` hae="9999999.0"`, ``, 1), func(t *testing.T, ev Event) {
			eq(t, "hae unknown", IsUnknown(ev.Point.HAE), true)
		}},
		{"partial track stays verbatim", strings.Replace(good, `<contact`, `<track course="12.5"/><contact`, 1), func(t *testing.T, ev Event) {
			eq(t, "course", ev.Course, 12.5)
			eq(t, "speed absent", math.IsNaN(ev.Speed), true)
			eq(t, "detail", string(ev.Detail), `<track course="12.5"/>`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := ParseXML([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, ev)
		})
	}
}

func TestEventHelpers(t *testing.T) {
	tests := []struct {
		typ         string
		friendly    bool
		affiliation string
		atom        bool
	}{
		{"a-f-G-U-C", true, "f", true},
		{"a-h-G", false, "h", true},
		{"a-n-A-C-F", false, "n", true},
		{"b-m-p-s-m", false, "", false},
		{"u-d-f", false, "", false},
		{"a-fG", false, "fG", true},
	}
	for _, tt := range tests {
		ev := Event{Type: tt.typ}
		eq(t, tt.typ+" friendly", ev.IsFriendly(), tt.friendly)
		eq(t, tt.typ+" affiliation", ev.Affiliation(), tt.affiliation)
		eq(t, tt.typ+" atom", ev.IsAtom(), tt.atom)
	}
	for v, want := range map[float64]bool{9999999.0: true, 999999: true, math.NaN(): true, 0: false, 8848.9: false} {
		eq(t, "IsUnknown", IsUnknown(v), want)
	}
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	eq(t, "stale", Event{Stale: now}.IsStale(now), true)
	eq(t, "fresh", Event{Stale: now.Add(time.Second)}.IsStale(now), false)
}
