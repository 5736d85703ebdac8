package assess

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// TestEveryRuleDocumented checks that every rule of the vocabulary has a
// severity in the table, says what breaks it and how its party is found,
// is stated with its severity in the package documentation and in
// docs/assessment.md, and is produced, with an explanation, by some
// scenario in testdata.
func TestEveryRuleDocumented(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	guide, err := os.ReadFile("../../docs/assessment.md")
	if err != nil {
		t.Fatal(err)
	}
	scenarios := map[truce.Rule]bool{}
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, f := range files {
		sc, _ := loadScenario(t, f)
		for _, inc := range sc.Incidents {
			for _, v := range inc.Violations {
				scenarios[truce.Rule(v.Rule)] = true
			}
		}
	}
	for _, term := range truce.Rules() {
		r := truce.Rule(term.Name)
		t.Run(term.Name, func(t *testing.T) {
			info := infoOf(r)
			if info == nil {
				t.Fatalf("rule %s has no entry in ruleTable", r)
			}
			if !slices.Contains(truce.Severities(), info.severity) {
				t.Errorf("rule %s: severity %q is not a severity", r, info.severity)
			}
			if info.what == "" || info.party == "" {
				t.Errorf("rule %s: got what %q, party %q, want both said", r, info.what, info.party)
			}
			row := "| `" + string(r) + "` | " + string(info.severity)
			for name, text := range map[string][]byte{"doc.go": doc, "docs/assessment.md": guide} {
				if !strings.Contains(string(text), row) {
					t.Errorf("%s: got no row starting %q, want the rule's severity stated", name, row)
				}
			}
			if !scenarios[r] {
				t.Errorf("no scenario in testdata produces a %s violation", r)
			}
		})
	}
	if len(ruleTable) != len(truce.Rules()) {
		t.Errorf("ruleTable: got %d rules, want %d", len(ruleTable), len(truce.Rules()))
	}
}

func TestSeverityOf(t *testing.T) {
	tests := []struct {
		rule   truce.Rule
		weapon truce.WeaponClass
		want   truce.Severity
	}{
		{truce.RuleCeasefire, "", truce.SeverityMedium},
		{truce.RuleCeasefire, truce.WeaponMortar, truce.SeverityMedium},
		{truce.RuleCeasefire, truce.WeaponArtillery100Plus, truce.SeverityHigh},
		{truce.RuleCeasefire, truce.WeaponMLRS, truce.SeverityHigh},
		{truce.RuleCeasefire, truce.WeaponHeavyMLRS, truce.SeverityHigh},
		{truce.RuleCeasefire, truce.WeaponTacticalMissile, truce.SeverityHigh},
		{truce.RuleCeasefire, truce.WeaponCombatAircraft, truce.SeverityHigh},
		{truce.RuleWithdrawal, truce.WeaponTank, truce.SeverityMedium},
		{truce.RuleWithdrawal, truce.WeaponMLRS, truce.SeverityHigh},
		{truce.RuleMaritime, truce.WeaponMLRS, truce.SeverityMedium},
		{truce.RuleProtectedSite, "", truce.SeverityHigh},
		{truce.RuleSilence, truce.WeaponSmallArms, truce.SeverityCritical},
		{truce.RuleSilence, truce.WeaponMLRS, truce.SeverityCritical}, // a heavy weapon does not lower it
		{truce.RuleFreedomOfMovement, "", truce.SeverityLow},
	}
	for _, tt := range tests {
		t.Run(string(tt.rule)+"/"+string(tt.weapon), func(t *testing.T) {
			if got := severityOf(tt.rule, tt.weapon); got != tt.want {
				t.Errorf("severityOf(%s, %q): got %s, want %s", tt.rule, tt.weapon, got, tt.want)
			}
		})
	}
}

// TestAssessConcurrent checks that concurrent Assess calls agree with
// sequential ones (run with -race to check for races).
func TestAssessConcurrent(t *testing.T) {
	a := loadExample(t)
	as, err := New(a)
	if err != nil {
		t.Fatal(err)
	}
	n := 4000
	if testing.Short() {
		n = 500
	}
	incs := mix(t, a, n)
	want := make([][]truce.Violation, len(incs))
	for i := range incs {
		inc := incs[i]
		want[i] = as.Assess(&inc, nil)
	}
	got := make([][]truce.Violation, len(incs))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(incs); i += 4 {
				inc := incs[i]
				got[i] = as.Assess(&inc, nil)
			}
		})
	}
	wg.Wait()
	for i := range incs {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("incident %s: concurrent got %v, sequential %v", incs[i].ID, got[i], want[i])
		}
	}
}

func TestNewRejects(t *testing.T) {
	if _, err := New(nil); err == nil {
		t.Error("New(nil): got no error, want one")
	}
	if _, err := New(&truce.Agreement{ID: "empty"}); err == nil {
		t.Error("New(no parties): got no error, want one")
	}
}

// TestLineDistance checks the grid's distance to the line against the
// line's own (s2) distance, at points near and far from the example line.
func TestLineDistance(t *testing.T) {
	a := loadExample(t)
	as, err := New(a)
	if err != nil {
		t.Fatal(err)
	}
	incs := mix(t, a, 3000)
	far := []geo.Point{geo.Pt(50, 30), geo.Pt(44, 40), geo.Pt(47.5, 35.5)}
	for _, inc := range incs {
		far = append(far, inc.Location)
	}
	for _, p := range far {
		got, want := as.lineDistance(p), a.Line.Distance(p)
		if math.Abs(got-want) > 0.01 {
			t.Fatalf("distance from %v to the line: got %.3f m, want %.3f m", p, got, want)
		}
	}
}
