package report

import (
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/engine"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// manyIncidents makes n incidents spread over the seven days up to the end
// of 2026-11-25 on the simple agreement, within 30 km of its line, with
// one to three violations each.
func manyIncidents(n int) []engine.Record {
	rng := rand.New(rand.NewPCG(1, 2))
	end := at("2026-11-26T00:00:00Z")
	span := int64(TrendDays * 24 * time.Hour)
	cats := []truce.Category{truce.CategoryExplosion, truce.CategoryImpact, truce.CategoryOutgoingFire, truce.CategoryWeaponSighting, truce.CategoryShot}
	weapons := []truce.WeaponClass{"", truce.WeaponMortar, truce.WeaponArtillery100Plus, truce.WeaponMLRS, truce.WeaponSmallArms}
	parties := []truce.PartyID{"UA", "RU", ""}
	recs := make([]engine.Record, n)
	for i := range recs {
		start := end.Add(-time.Duration(rng.Int64N(span)))
		lat, lon := 47+rng.Float64()*2, 36+(rng.Float64()-0.5)*0.8
		sector := "north"
		if lat < 48 {
			sector = "south"
		}
		party := parties[rng.IntN(3)]
		inc := truce.Incident{ID: fmt.Sprintf("inc-%06d", i), Category: cats[rng.IntN(len(cats))], Weapon: weapons[rng.IntN(len(weapons))],
			Count: 1, Location: geo.Pt(lat, lon), Start: start, End: start, Confidence: rng.Float64(), Party: party, Status: truce.StatusVerified}
		r := engine.Record{Incident: inc, Sector: sector}
		rules := []truce.Rule{truce.RuleCeasefire}
		switch rng.IntN(10) {
		case 0:
			rules = append(rules, truce.RuleWithdrawal)
		case 1:
			rules = append(rules, truce.RuleSilence, truce.RuleProtectedSite)
		case 2:
			rules = []truce.Rule{truce.RuleFreedomOfMovement}
		}
		for _, rule := range rules {
			zone := ""
			switch rule {
			case truce.RuleWithdrawal:
				zone = "wz-art"
			case truce.RuleSilence:
				zone = "w-pump"
			case truce.RuleProtectedSite:
				zone = "pump"
			}
			r.Violations = append(r.Violations, truce.Violation{ID: inc.ID + "/" + string(rule) + "/" + zone, Incident: inc.ID, Rule: rule, Zone: zone,
				Sector: sector, Party: party, Severity: truce.SeverityMedium, Time: start, Location: inc.Location, Explanation: "synthetic"})
		}
		recs[i] = r
	}
	return recs
}

// BenchmarkReport100k builds a report over 100,000 incidents and writes
// it as HTML; the target is at most 1 s (1000 ms/op).
func BenchmarkReport100k(b *testing.B) {
	in := handInput(b)
	in.Cutoff = time.Time{}
	in.Incidents = manyIncidents(100_000)
	var size int
	for b.Loop() {
		r, err := Build(in)
		if err != nil {
			b.Fatal(err)
		}
		cw := &countWriter{}
		if err := r.HTML(cw); err != nil {
			b.Fatal(err)
		}
		size = cw.n
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
	b.ReportMetric(float64(size)/1e3, "kB-html")
}

type countWriter struct{ n int }

func (w *countWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
