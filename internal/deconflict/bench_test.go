package deconflict

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/truce"
)

var benchStart = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// benchSet compiles n generated single-volume activities spread over span.
func benchSet(tb testing.TB, seed uint64, n int, span time.Duration) ([]truce.Activity, []Vol) {
	acts := Gen(GenOptions{Seed: seed, Activities: n, Area: DefaultArea, Start: benchStart, Span: span})
	vols := make([]Vol, n)
	for i := range acts {
		vs, err := Validate(&acts[i])
		if err != nil {
			tb.Fatal(err)
		}
		vols[i] = vs[0]
		vols[i].Owner = int32(i)
	}
	return acts, vols
}

var coalition = truce.Coalition{Margins: map[truce.Domain]truce.Margin{
	truce.DomainAir:  {Horizontal: 5000, Vertical: 300, Time: 10 * time.Minute},
	truce.DomainLand: {Horizontal: 1000, Time: 15 * time.Minute},
	truce.DomainSea:  {Horizontal: 2000, Time: 30 * time.Minute},
}}

var million struct {
	once sync.Once
	idx  *Index
	q    []Vol
}

// BenchmarkQuery1M checks one activity's volume against 1,000,000 active
// volumes spread over a week, and reports the p99 latency.
func BenchmarkQuery1M(b *testing.B) {
	million.once.Do(func() {
		_, vols := benchSet(b, 1, 1_000_000, 7*24*time.Hour)
		million.idx = NewIndex(&coalition, IndexOptions{})
		for _, v := range vols {
			million.idx.Add(v)
		}
		_, million.q = benchSet(b, 2, 10_000, 7*24*time.Hour)
	})
	x, qs := million.idx, million.q
	lat := make([]time.Duration, 0, b.N)
	found := 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		q := &qs[i%len(qs)]
		q.Owner = -1
		t0 := time.Now()
		x.Near(q, func(uint32, *Vol) bool { found++; return true })
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
	b.ReportMetric(float64(found)/float64(len(lat)), "conflicts/op")
}

// BenchmarkPairs200k finds every conflicting pair among a day's 200,000
// volumes, the grid's build included.
func BenchmarkPairs200k(b *testing.B) {
	_, vols := benchSet(b, 3, 200_000, 24*time.Hour)
	var pairs int
	for b.Loop() {
		pairs = len(Pairs(&coalition, IndexOptions{}, vols))
	}
	b.ReportMetric(float64(pairs), "pairs")
}
