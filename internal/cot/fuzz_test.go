package cot

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/ and include the real
// captures. Grow them with, for example:
//
//	go test -fuzz=FuzzParseXML -fuzztime=20s ./internal/cot

// msTimes truncates the event's times to what both encodings carry.
func msTimes(ev Event) Event {
	ev.Time = ev.Time.Truncate(time.Millisecond)
	ev.Start = ev.Start.Truncate(time.Millisecond)
	ev.Stale = ev.Stale.Truncate(time.Millisecond)
	return ev
}

func FuzzParseXML(f *testing.F) {
	f.Add([]byte(good))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := ParseXML(data)
		if err != nil {
			if !errIs(err, ErrTooLarge, ErrDTD, ErrTooDeep, ErrSyntax, ErrMissing, ErrRange) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		want := msTimes(ev)
		back, err := ParseXML(MarshalXML(ev))
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, MarshalXML(ev))
		}
		sameEvent(t, "xml round trip", back, want)
		tak, err := DecodeTAK(MarshalTAK(ev))
		if err != nil {
			t.Fatalf("tak round trip: %v", err)
		}
		sameEvent(t, "tak round trip", tak, want)
	})
}

func FuzzDecodeTAK(f *testing.F) {
	f.Add(MarshalTAK(Event{UID: "u", Type: "a-f-G", Time: time.UnixMilli(1), Start: time.UnixMilli(1), Stale: time.UnixMilli(2)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := DecodeTAK(data)
		if err != nil {
			if !errIs(err, ErrTooLarge, ErrDTD, ErrTooDeep, ErrSyntax, ErrMissing, ErrRange) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		back, err := DecodeTAK(MarshalTAK(ev))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		sameEvent(t, "tak round trip", back, ev)
		if _, err := ParseXML(MarshalXML(ev)); err != nil {
			t.Fatalf("tak -> xml: %v\n%s", err, MarshalXML(ev))
		}
	})
}

func FuzzReader(f *testing.F) {
	f.Add([]byte(good + good))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), 4096)
		for i := 0; ; i++ {
			if i > len(data)+1 {
				t.Fatalf("Next made no progress after %d calls", i)
			}
			ev, err := r.Next()
			var me *MessageError
			switch {
			case err == nil:
				if ev.UID == "" {
					t.Fatal("event without uid")
				}
			case errors.As(err, &me):
			case err == io.EOF:
				return
			default:
				if _, again := r.Next(); again == nil || again.Error() != err.Error() {
					t.Fatalf("final error %v not sticky: %v", err, again)
				}
				return
			}
		}
	})
}
