package sqlite

// Run with:
//
//	go test ./internal/store/sqlite -run '^$' -bench . -benchtime 20x -count 3
//
// BenchmarkAppend writes batches of 1,000 observations durably (one
// Append each) from 1 or 4 goroutines; BenchmarkRebuild rebuilds the
// projections of a 100,000-entry journal.

import (
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store/storetest"
	"github.com/truce-dev/truce/internal/truce"
)

// benchEntries returns n distinct observation entries, those of batch k
// of a run.
func benchEntries(k, n int) []journal.Entry {
	es := make([]journal.Entry, n)
	for i := range es {
		j := k*n + i
		es[i] = journal.Entry{Kind: journal.KindObservation, Org: "GBR", Observation: &truce.Observation{
			Source: "acoustic-1", SourceID: fmt.Sprint(j), Method: truce.MethodAcoustic, Category: truce.CategoryImpact, Count: 1,
			Time:        time.Date(2026, 2, 28, 10, 0, 0, 0, time.UTC).Add(time.Duration(j%86400) * time.Second),
			Location:    &truce.Location{Point: geo.Point{Lat: 48 + float64(j%1000)*1e-3, Lon: 37 + float64(j%777)*1e-3}, CEP: 150},
			Reliability: 'B', Credibility: 3, Text: "impact, 120 mm",
			Marking: truce.Marking{TLP: truce.TLPGreen},
		}}
	}
	return es
}

func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 4} {
		b.Run(fmt.Sprintf("batch=1000/writers=%d", writers), func(b *testing.B) { benchmarkAppend(b, writers, 1000) })
	}
}

func benchmarkAppend(b *testing.B, writers, batch int) {
	db, err := Open(bg, filepath.Join(b.TempDir(), "bench.db"), Options{Now: storetest.NewClock().Now})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	n := 0
	start := time.Now()
	for b.Loop() {
		// Each iteration: every writer appends one batch.
		var wg sync.WaitGroup
		for range writers {
			es := benchEntries(int(next.Add(1)), batch)
			wg.Go(func() {
				t0 := time.Now()
				if _, err := db.Append(bg, es); err != nil {
					b.Error(err)
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			})
		}
		wg.Wait()
		n += writers * batch
	}
	el := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(n)/el.Seconds(), "obs/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-append-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-append-µs")
}

func BenchmarkRebuild(b *testing.B) {
	const n = 100000
	db, err := Open(bg, filepath.Join(b.TempDir(), "bench.db"), Options{Now: storetest.NewClock().Now})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for k := range n / 10000 {
		if _, err := db.Append(bg, benchEntries(k, 10000)); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	runs := 0
	for b.Loop() {
		if err := db.Rebuild(bg); err != nil {
			b.Fatal(err)
		}
		runs++
	}
	b.ReportMetric(float64(n*runs)/time.Since(start).Seconds(), "entries/s")
}
