package assess

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/truce"
)

func TestWindowLevel(t *testing.T) {
	e := &Escalator{esc: truce.Escalation{Hysteresis: 0.5}}
	win := truce.EscalationWindow{Tense: 4, Serious: 10, Critical: 20}
	tests := []struct {
		score float64
		prev  int
		want  int
	}{
		{0, 0, 0},
		{3.9, 0, 0},
		{4, 0, 1},
		{10, 0, 2},
		{25, 0, 3},
		{19, 3, 3},  // under 20 but not under 10: CRITICAL holds
		{10, 3, 3},  // exactly half the threshold still holds
		{9.9, 3, 2}, // under 10: CRITICAL drops, but SERIOUS holds while >= 5
		{5, 3, 2},   // SERIOUS, held by its own hysteresis on the way down
		{4.9, 3, 1},
		{2, 1, 1},
		{1.9, 1, 0},
		{9, 1, 1}, // climbing: SERIOUS is not reached by hysteresis
		{19, 2, 2},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v_from_%d", tt.score, tt.prev), func(t *testing.T) {
			if got := e.windowLevel(tt.score, win, tt.prev); got != tt.want {
				t.Errorf("windowLevel(%v, prev %d): got %d, want %d", tt.score, tt.prev, got, tt.want)
			}
		})
	}
}

func testAgreement(t *testing.T) *truce.Agreement {
	t.Helper()
	_, a := loadScenario(t, "testdata/surge.yaml")
	return a
}

func viol(sector string, sev truce.Severity, at string) truce.Violation {
	hm, _ := time.Parse("15:04", at)
	return truce.Violation{Sector: sector, Severity: sev, Time: day.Add(time.Duration(hm.Hour())*time.Hour + time.Duration(hm.Minute())*time.Minute)}
}

func at(s string) time.Time { return viol("", "", s).Time }

// TestTwoWindows: the sector's level is the highest over its windows. With
// windows of 1 h (TENSE 4, SERIOUS 10, CRITICAL 20) and 3 h (TENSE 6,
// SERIOUS 20, CRITICAL 40) and weights medium 2, three medium violations an
// hour apart score 2 in the 1 h window (CALM) but 6 in the 3 h window at
// 12:00 (TENSE); at 13:00 the first leaves the 3 h window (4: TENSE holds,
// not under 3); at 14:00 the second (2: under 3) -> CALM.
func TestTwoWindows(t *testing.T) {
	a := testAgreement(t)
	a.Escalation.Windows = []truce.EscalationWindow{
		{Duration: time.Hour, Tense: 4, Serious: 10, Critical: 20},
		{Duration: 3 * time.Hour, Tense: 6, Serious: 20, Critical: 40},
	}
	e := NewEscalator(a)
	for i, tm := range []string{"10:00", "11:00", "12:00"} {
		e.Set(fmt.Sprint(i), []truce.Violation{viol("north", truce.SeverityMedium, tm)})
	}
	got := formatChanges(e.Advance(at("15:00")))
	want := []string{
		"2026-06-01T12:00:00Z north CALM->TENSE [2 6]",
		"2026-06-01T14:00:00Z north TENSE->CALM [0 2]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestTriggered: critical_sectors is 2 in the test agreement; two critical
// violations (10 each) in each sector make both CRITICAL (20).
func TestTriggered(t *testing.T) {
	e := NewEscalator(testAgreement(t))
	for i, s := range []string{"north", "north", "south", "south"} {
		e.Set(fmt.Sprint(i), []truce.Violation{viol(s, truce.SeverityCritical, "10:00")})
	}
	if e.Triggered() {
		t.Error("Triggered() before any Advance: got true, want false")
	}
	e.Advance(at("10:00"))
	if !e.Triggered() {
		t.Error("Triggered() at 10:00: got false, want true")
	}
	got := formatChanges(e.Advance(at("11:00")))
	want := []string{
		"2026-06-01T11:00:00Z north CRITICAL->CALM [0]",
		"2026-06-01T11:00:00Z south CRITICAL->CALM [0]",
		"2026-06-01T11:00:00Z trigger false []",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if e.Triggered() {
		t.Error("Triggered() at 11:00: got true, want false")
	}
}

// randomViolations returns n violations over the test agreement's sectors
// (and some outside them) during a day, from a fixed seed.
func randomViolations(n int, seed uint64) []truce.Violation {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	sectors := []string{"north", "south", ""}
	vs := make([]truce.Violation, n)
	for i := range vs {
		vs[i] = truce.Violation{
			Sector:   sectors[rng.IntN(len(sectors))],
			Severity: truce.Severities()[rng.IntN(4)],
			Time:     day.Add(time.Duration(rng.IntN(24*60)) * time.Minute),
		}
	}
	return vs
}

// TestAdvanceGranularity: when no violation arrives late, advancing in
// many small steps finds the same changes as advancing once, and setting
// the violations in another order changes nothing.
func TestAdvanceGranularity(t *testing.T) {
	a := testAgreement(t)
	for seed := range uint64(20) {
		vs := randomViolations(300, seed)
		once := NewEscalator(a)
		for i, v := range vs {
			once.Set(fmt.Sprint(i), []truce.Violation{v})
		}
		want := formatChanges(once.Advance(day.Add(26 * time.Hour)))

		steps := NewEscalator(a)
		order := rand.New(rand.NewPCG(seed, 99)).Perm(len(vs))
		for _, i := range order {
			steps.Set(fmt.Sprint(i), []truce.Violation{vs[i]})
		}
		var got []string
		for m := 0; m <= 26*60; m += 7 {
			got = append(got, formatChanges(steps.Advance(day.Add(time.Duration(m)*time.Minute)))...)
		}
		got = append(got, formatChanges(steps.Advance(day.Add(26*time.Hour)))...)
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: stepwise got %d changes, once %d:\n%q\n%q", seed, len(got), len(want), got, want)
		}
		if len(want) == 0 {
			t.Fatalf("seed %d: no changes at all; the test proves nothing", seed)
		}
		for i := 1; i < len(want); i++ {
			if want[i] < want[i-1] { // RFC 3339 UTC times sort as strings
				t.Fatalf("seed %d: changes out of time order: %q before %q", seed, want[i-1], want[i])
			}
		}
	}
}

// TestLevelsMatchesAdvance: Levels(now) foresees the levels the next
// Advance(now) reaches, and does not change what it reports.
func TestLevelsMatchesAdvance(t *testing.T) {
	a := testAgreement(t)
	vs := randomViolations(300, 7)
	e := NewEscalator(a)
	for i, v := range vs {
		e.Set(fmt.Sprint(i), []truce.Violation{v})
	}
	for m := 0; m <= 26*60; m += 37 {
		now := day.Add(time.Duration(m) * time.Minute)
		foreseen := e.Levels(now)
		e.Advance(now)
		if got := e.Levels(now); !slices.EqualFunc(got, foreseen, func(x, y truce.SectorLevel) bool {
			return x.Sector == y.Sector && x.Level == y.Level && x.Since.Equal(y.Since) && slices.Equal(x.Scores, y.Scores)
		}) {
			t.Fatalf("at %s: Levels after Advance got %v, foreseen %v", now.Format(time.RFC3339), got, foreseen)
		}
	}
}

// TestForgetsExpired: incidents whose violations have left every window
// are dropped from memory.
func TestForgetsExpired(t *testing.T) {
	e := NewEscalator(testAgreement(t))
	for i, v := range randomViolations(100, 3) {
		e.Set(fmt.Sprint(i), []truce.Violation{v})
	}
	e.Advance(day.Add(30 * time.Hour))
	if n := len(e.incidents); n != 0 {
		t.Errorf("incidents held after every window passed: got %d, want 0", n)
	}
	if n := len(e.events); n != 0 {
		t.Errorf("events pending: got %d, want 0", n)
	}
}
