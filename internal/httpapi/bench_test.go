package httpapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/truce"
)

// BenchmarkIngestHTTP posts NDJSON batches of 1,000 observations over
// loopback HTTP to a server with a real SQLite store (temporary file,
// synchronous=FULL), from 1 and from 4 concurrent clients. It reports
// observations per second, and the p50 and p99 of the journal commit as
// the handler sees it (one store.Append per request).
//
//	go test ./internal/httpapi -run '^$' -bench IngestHTTP -benchtime 200x -count 3
func BenchmarkIngestHTTP(b *testing.B) {
	for _, clients := range []int{1, 4} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchmarkIngestHTTP(b, clients) })
	}
}

func benchmarkIngestHTTP(b *testing.B, clients int) {
	const batch = 1000
	var (
		mu      sync.Mutex
		commits []time.Duration
	)
	e := newEnv(b, func(c *Config) { c.Now = time.Now }, func(s *Server) {
		s.observeCommit = func(d time.Duration, _ int) {
			mu.Lock()
			commits = append(commits, d)
			mu.Unlock()
		}
	})
	token := e.token(b, "MISSION", truce.OrgCoalition, truce.RoleSensor)
	// One template batch; each request renames its source, so that no
	// observation is a duplicate.
	when := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	var tmpl bytes.Buffer
	for i := range batch {
		fmt.Fprintf(&tmpl, `{"source":"@SRC@","source_id":"%d","method":"acoustic","category":"explosion","weapon":"artillery_100mm_plus","time":"%s","lat":%.5f,"lon":%.5f,"cep_m":250,"reliability":"B","credibility":2,"marking":{"tlp":"GREEN"}}`+"\n",
			i, when.Add(time.Duration(i)*time.Second).Format(time.RFC3339), 47.5+float64(i%500)*0.001, 37.5+float64(i/500)*0.01)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	var failed atomic.Value
	run := func() {
		for {
			n := next.Add(1)
			if n > int64(b.N) {
				return
			}
			body := bytes.ReplaceAll(tmpl.Bytes(), []byte("@SRC@"), fmt.Appendf(nil, "bench-%d-%d", clients, n))
			req, _ := http.NewRequest("POST", e.ts.URL+"/api/v1/observations", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/x-ndjson")
			resp, err := client.Do(req)
			if err != nil {
				failed.Store(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				failed.Store(fmt.Errorf("status %d", resp.StatusCode))
				return
			}
		}
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(run)
	}
	wg.Wait()
	b.StopTimer()
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "obs/s")
	mu.Lock()
	defer mu.Unlock()
	if len(commits) > 0 {
		slices.Sort(commits)
		b.ReportMetric(float64(commits[len(commits)/2].Microseconds())/1000, "commit-p50-ms")
		b.ReportMetric(float64(commits[len(commits)*99/100].Microseconds())/1000, "commit-p99-ms")
	}
}
