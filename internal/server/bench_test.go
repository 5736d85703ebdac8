package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkStreamLatency measures, at 10,000 observations/s over HTTP
// (batches of 100 every 10 ms), the time from a batch's acknowledgement to
// the stream event of the incident each of its observations made: the
// path ingest → journal (fsync) → fusion → assessment → stream. DESIGN.md's
// budget is a p99 of 20 ms. b.N is the number of batches.
//
//	go test ./internal/server -run '^$' -bench StreamLatency -benchtime 1000x -count 3
func BenchmarkStreamLatency(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &bytes.Buffer{}
	listening := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{DB: filepath.Join(b.TempDir(), "b.db"), Addr: "127.0.0.1:0", Agreement: "../agreement/testdata/simple/agreement.yaml", Out: out, Listening: func(a net.Addr) { listening <- a }})
	}()
	var base string
	select {
	case a := <-listening:
		base = "http://" + a.String()
	case err := <-done:
		b.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	token := lines[len(lines)-1]

	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("stream: %v %v", err, resp)
	}
	defer resp.Body.Close()

	var (
		mu       sync.Mutex
		accepted = map[string]time.Time{} // source_id -> when its batch was acknowledged
		sourceOf = map[uint64]string{}    // journal id -> source_id
		seen     = map[uint64]bool{}
		early    = map[string]bool{} // in an incident before its batch was acknowledged
		lat      []time.Duration
		total    = b.N * 100
		all      = make(chan struct{})
	)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var event string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data := []byte(strings.TrimPrefix(line, "data: "))
				now := time.Now()
				mu.Lock()
				switch event {
				case "observation":
					var o struct {
						ID       uint64 `json:"id"`
						SourceID string `json:"source_id"`
					}
					json.Unmarshal(data, &o)
					sourceOf[o.ID] = o.SourceID
				case "incident":
					var inc struct {
						Observations []struct {
							ID uint64 `json:"id"`
						} `json:"observations"`
					}
					json.Unmarshal(data, &inc)
					for _, m := range inc.Observations {
						if seen[m.ID] {
							continue
						}
						seen[m.ID] = true
						if at, ok := accepted[sourceOf[m.ID]]; ok {
							lat = append(lat, max(0, now.Sub(at)))
						} else {
							early[sourceOf[m.ID]] = true
						}
					}
					if len(seen) == total {
						close(all)
					}
				}
				mu.Unlock()
			}
		}
	}()

	var (
		posts   sync.WaitGroup
		postErr atomic.Pointer[error]
	)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	for n := range b.N {
		<-tick.C
		var body bytes.Buffer
		ids := make([]string, 100)
		for i := range ids {
			ids[i] = fmt.Sprintf("b%06d-%03d", n, i)
			// Each observation its own event: 550 m to 1 km apart, no place
			// used twice (up to 100,000 observations).
			k := n*100 + i
			fmt.Fprintf(&body, `{"source":"bench","source_id":%q,"method":"acoustic","category":"impact","time":%q,"lat":%.5f,"lon":%.5f,"cep_m":50}`+"\n",
				ids[i], time.Now().UTC().Format(time.RFC3339Nano), 47.0+float64(k%400)*0.005, 35.0+float64(k/400)*0.01)
		}
		// Each batch goes at its tick, whether or not the one before has
		// been answered: the offered load stays at 10,000/s.
		posts.Add(1)
		go func() {
			defer posts.Done()
			r, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/observations", &body)
			r.Header.Set("Authorization", "Bearer "+token)
			r.Header.Set("Content-Type", "application/x-ndjson")
			resp, err := http.DefaultClient.Do(r)
			if err != nil || resp.StatusCode != 200 {
				e := fmt.Errorf("POST: %v %v", err, resp)
				postErr.CompareAndSwap(nil, &e)
				return
			}
			resp.Body.Close()
			now := time.Now()
			mu.Lock()
			for _, id := range ids {
				accepted[id] = now
				if early[id] {
					lat = append(lat, 0)
				}
			}
			mu.Unlock()
		}()
	}
	posts.Wait()
	if err := postErr.Load(); err != nil {
		b.Fatal(*err)
	}
	select {
	case <-all:
	case <-time.After(30 * time.Second):
		mu.Lock()
		b.Fatalf("only %d of %d observations reached the stream in an incident", len(seen), total)
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lat)
	if len(lat) == 0 {
		b.Fatal("no latencies")
	}
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "obs/s")
}
