package journal

import (
	"os"
	"strings"
	"testing"
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
