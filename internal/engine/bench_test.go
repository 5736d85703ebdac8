package engine

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store/sqlite"
)

// BenchmarkPipeline measures observations through the whole durable path
// in process: journal commit (SQLite, fsync), then fusion, assessment and
// escalation by the engine's runner, fed by the store's commit hook, in
// batches of 1,000 from one appender.
//
//	go test ./internal/engine -run '^$' -bench Pipeline -benchtime 50x -count 3
func BenchmarkPipeline(b *testing.B) {
	a := simpleAgreement(b)
	es := traffic(1, 200_000, 200_000*time.Second) // one event every 2 s, as on a very heavy day
	for i := range es {
		es[i].Seq, es[i].Time = 0, time.Time{}
	}
	eng, err := New(Config{Agreement: a})
	if err != nil {
		b.Fatal(err)
	}
	var r *Runner
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"), sqlite.Options{
		Now:       func() time.Time { return t0.Add(60 * time.Hour) },
		Committed: func(es []journal.Entry) { r.Committed(es) },
	})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	r = NewRunner(eng, db, NewFeed())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	const batch = 1000
	next := 0
	b.ResetTimer()
	for range b.N {
		if next+batch > len(es) {
			b.Fatal("traffic exhausted: lower -benchtime")
		}
		if _, err := db.Append(ctx, es[next:next+batch]); err != nil {
			b.Fatal(err)
		}
		next += batch
	}
	r.Close() // Run returns once the engine has judged every commit
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "obs/s")
	b.ReportMetric(float64(eng.fuse.Len()), "window-obs")
}

// BenchmarkApply measures the engine alone (fusion, assessment,
// escalation) on the same traffic, one batch of 1,000 entries per op.
//
//	go test ./internal/engine -run '^$' -bench Apply -benchtime 100x -count 3
func BenchmarkApply(b *testing.B) {
	a := simpleAgreement(b)
	es := traffic(1, 200_000, 200_000*time.Second) // one event every 2 s, as on a very heavy day
	eng, err := New(Config{Agreement: a})
	if err != nil {
		b.Fatal(err)
	}
	next := 0
	b.ResetTimer()
	for range b.N {
		if next+1000 > len(es) {
			b.Fatal("traffic exhausted: lower -benchtime")
		}
		eng.Apply(es[next : next+1000])
		next += 1000
	}
	b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "obs/s")
}
