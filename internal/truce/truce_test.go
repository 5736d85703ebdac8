package truce

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestVocabularies(t *testing.T) {
	if w, err := ParseWeaponClass("mlrs"); err != nil || w != WeaponMLRS || !w.Valid() {
		t.Errorf("ParseWeaponClass(mlrs) = %q, %v", w, err)
	}
	_, err := ParseWeaponClass("catapult")
	if err == nil || !strings.Contains(err.Error(), `unknown weapon class "catapult" (want one of small_arms,`) {
		t.Errorf("ParseWeaponClass(catapult): %v", err)
	}
	if _, err := ParseZoneKind("withdrawal"); err != nil {
		t.Error(err)
	}
	if ZoneKind("moat").Valid() {
		t.Error(`ZoneKind("moat").Valid() = true`)
	}
	// Every term is documented for agreement authors.
	doc, err := os.ReadFile("../../docs/agreement.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, terms := range [][]Term{ZoneKinds(), WeaponClasses(), SiteCategories()} {
		for _, term := range terms {
			if !strings.Contains(string(doc), "`"+term.Name+"`") {
				t.Errorf("docs/agreement.md does not document %q", term.Name)
			}
		}
	}
}

func TestProblems(t *testing.T) {
	p := Problems{
		{Where: "a.yaml:3", Record: "zones[0] (z)", Field: "distance_km", Reason: "must be positive"},
		{Where: "b.geojson", Reason: "unreadable"},
	}
	err := fmt.Errorf("load: %w", p.Err())
	if !errors.Is(err, ErrInvalid) {
		t.Error("errors.Is(Problems, ErrInvalid) = false")
	}
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field != "distance_km" {
		t.Errorf("errors.As found %+v", ve)
	}
	if got, want := p.Error(), "a.yaml:3: zones[0] (z).distance_km: must be positive\nb.geojson: unreadable"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if (Problems{}).Err() != nil {
		t.Error("empty Problems.Err() != nil")
	}
}

func TestTimeRange(t *testing.T) {
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	open := TimeRange{From: from}
	closed := TimeRange{From: from, Until: from.Add(time.Hour)}
	for _, tt := range []struct {
		r    TimeRange
		t    time.Time
		want bool
	}{
		{open, from, true}, {open, from.Add(-time.Nanosecond), false}, {open, from.AddDate(10, 0, 0), true},
		{closed, from.Add(59 * time.Minute), true}, {closed, from.Add(time.Hour), false},
	} {
		if got := tt.r.Contains(tt.t); got != tt.want {
			t.Errorf("%v.Contains(%v) = %v, want %v", tt.r, tt.t, got, tt.want)
		}
	}
}
