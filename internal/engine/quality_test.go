package engine

import (
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/sim"
	"github.com/truce-dev/truce/internal/truce"
)

// TestFusionQuality scores fusion and attribution against the simulator's
// ground truth for a day over the example agreement. An incident is matched
// to the true event most of its reports came from. Recall: the share of
// events reported by a monitor or sensor that have an incident of their
// own. Precision: the share of incidents whose reports all come from one
// event (false claims count against it). Attribution: among fire incidents
// the engine attributed, the share attributed to the party that fired.
// Split: events whose reports went to more than one incident.
func TestFusionQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("a simulated day")
	}
	a, err := agreement.Load("../../examples/donbas/agreement.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := sim.Generate(a, sim.Config{Seed: seed(), Start: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), Hours: 24})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Config{Agreement: a, Windows: sc.Windows})
	if err != nil {
		t.Fatal(err)
	}
	eventOf := map[uint64]int{} // journal id -> true event
	var entries []journal.Entry
	for i, r := range sc.Observations {
		o := r.Observation
		entries = append(entries, journal.Entry{Seq: uint64(i + 1), Time: r.SentAt.Round(truce.TimeUnit), Kind: journal.KindObservation, Org: r.Org, Observation: &o})
		eventOf[uint64(i+1)] = r.Event
	}
	// Commits as a server would make them: one per second of sending.
	for rest := entries; len(rest) > 0; {
		n := 1
		for n < len(rest) && rest[n].Time.Sub(rest[0].Time) < time.Second {
			n++
		}
		for i := range rest[:n] {
			rest[i].Time = rest[n-1].Time
		}
		e.Apply(rest[:n])
		rest = rest[n:]
	}
	admin := truce.Principal{Org: "coalition", Kind: truce.OrgCoalition, Role: truce.RoleAdmin}
	var recs []Record
	for c := (Cursor{}); ; {
		page, next := e.Incidents(IncidentQuery{Viewer: admin, After: c, Limit: 1000})
		recs = append(recs, page...)
		if next.IsZero() {
			break
		}
		c = next
	}

	monitored := map[int]bool{} // events a monitor or sensor reported
	for _, r := range sc.Observations {
		if r.Event >= 0 && r.Observation.Party == "" {
			monitored[r.Event] = true
		}
	}
	found := map[int]bool{}
	incidentsOf := map[int]int{} // true event -> incidents matched to it
	pure, errs := 0, []float64{}
	attributed, right := 0, 0
	for _, r := range recs {
		count := map[int]int{}
		for _, m := range r.Incident.Observations {
			count[eventOf[m.ID]]++
		}
		best, bestN := -1, 0
		for ev, n := range count {
			if n > bestN || n == bestN && ev < best {
				best, bestN = ev, n
			}
		}
		if len(count) == 1 && best >= 0 {
			pure++
		}
		if best < 0 {
			continue
		}
		ev := sc.Truth[best]
		incidentsOf[best]++
		if monitored[best] && !found[best] {
			found[best] = true
			errs = append(errs, geo.Distance(r.Incident.Location, ev.Point))
		}
		if r.Incident.Party != "" && slices.Contains([]truce.Category{truce.CategoryImpact, truce.CategoryExplosion, truce.CategoryOutgoingFire, truce.CategoryBurst, truce.CategoryShot}, r.Incident.Category) {
			attributed++
			if r.Incident.Party == ev.Party {
				right++
			}
		}
	}
	slices.Sort(errs)
	recall := float64(len(found)) / float64(len(monitored))
	precision := float64(pure) / float64(len(recs))
	t.Logf("%d reports, %d true events (%d monitored), %d incidents", len(sc.Observations), len(sc.Truth), len(monitored), len(recs))
	split := 0
	splitBy := map[truce.Category]int{}
	for ev, n := range incidentsOf {
		if n > 1 {
			split++
			splitBy[sc.Truth[ev].Category]++
		}
	}
	t.Logf("split by category: %v", splitBy)
	t.Logf("events split over more than one incident: %d of %d", split, len(incidentsOf))
	t.Logf("recall %.3f, precision %.3f, location error median %.0f m, p90 %.0f m, attribution %d/%d", recall, precision, errs[len(errs)/2], errs[len(errs)*9/10], right, attributed)
	if recall < 0.9 || precision < 0.9 {
		t.Errorf("recall %.3f, precision %.3f: want both at least 0.9", recall, precision)
	}
	if float64(split) > 0.02*float64(len(incidentsOf)) {
		t.Errorf("%d of %d events split over more than one incident: want at most 2 %%", split, len(incidentsOf))
	}
	if attributed > 0 && float64(right)/float64(attributed) < 0.9 {
		t.Errorf("attribution right for %d of %d attributed fire incidents: want at least 90 %%", right, attributed)
	}
}

// seed is the simulation's seed: 1, or TRUCE_SIM_SEED to try others.
func seed() uint64 {
	if s, err := strconv.ParseUint(os.Getenv("TRUCE_SIM_SEED"), 10, 64); err == nil {
		return s
	}
	return 1
}
