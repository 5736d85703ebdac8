package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store/sqlite"
)

// TestCrashSafety runs truce serve as a child process, ingests into it from
// several clients at once, and kills it with SIGKILL at a random moment,
// twenty-one times over: in turn once a random number of batches has been
// acknowledged, after a random delay while requests are in flight, and
// during start-up (opening the database, catching up, migrating). After each kill: every acknowledged observation is in
// the journal exactly once, sequence numbers are contiguous, and the
// projections equal a rebuild.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a server 20 times")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "truce")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "truce.db")
	rng := rand.New(rand.NewPCG(2026, 11))
	acked := map[string]bool{} // source_id of every acknowledged observation
	var token string
	const rounds = 21
	for round := range rounds {
		mode := round % 3
		var startupKill time.Duration = -1
		if mode == 2 {
			startupKill = time.Duration(rng.IntN(20_000)) * time.Microsecond
		}
		srv := startServer(t, bin, db, startupKill)
		if mode == 2 { // killed while starting, or soon after
			srv.cmd.Wait()
			checkJournal(t, db, acked, round)
			continue
		}
		if round == 0 {
			token = srv.token
			if token == "" {
				t.Fatal("first start on an empty database printed no bootstrap token")
			}
		} else if srv.token != "" {
			t.Fatalf("round %d: a bootstrap token was printed again", round)
		}

		// Clients post continuously; the server is killed once a random
		// number of batches has been acknowledged, while others are in
		// flight.
		killAfter := 1 + rng.IntN(12)
		var mu sync.Mutex
		batches := 0
		killed := make(chan struct{})
		var once sync.Once
		kill := func() {
			once.Do(func() {
				srv.cmd.Process.Kill()
				close(killed)
			})
		}
		if mode == 1 {
			timer := time.AfterFunc(time.Duration(1+rng.IntN(300))*time.Millisecond, func() { mu.Lock(); kill(); mu.Unlock() })
			defer timer.Stop()
		}
		var wg sync.WaitGroup
		for c := range 3 {
			seed := rng.Uint64()
			wg.Go(func() {
				r := rand.New(rand.NewPCG(seed, uint64(c)))
				for n := 0; ; n++ {
					select {
					case <-killed:
						return
					default:
					}
					ids := make([]string, 1+r.IntN(400))
					for i := range ids {
						ids[i] = fmt.Sprintf("r%02d-c%d-b%04d-%03d", round, c, n, i)
					}
					// Some batches re-send earlier acknowledged records.
					if n > 0 && r.IntN(4) == 0 {
						ids = append(ids, fmt.Sprintf("r%02d-c%d-b%04d-%03d", round, c, n-1, 0))
					}
					if err := post(srv.url, token, ids); err != nil {
						continue // killed mid-request: not acknowledged
					}
					mu.Lock()
					for _, id := range ids {
						acked[id] = true
					}
					batches++
					if mode == 0 && batches >= killAfter {
						kill()
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		srv.cmd.Wait()
		checkJournal(t, db, acked, round)
	}
}

type child struct {
	cmd   *exec.Cmd
	url   string
	token string
}

// startServer starts truce serve on a free port and waits until it says
// where it listens. Its standard output and error share one pipe, so the
// bootstrap token, printed before the server listens, comes first.
//
// With kill >= 0 the server is killed that long after it starts, and c.url
// is "" if it never got to listen.
func startServer(t *testing.T, bin, db string, kill time.Duration) *child {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--db", db, "--addr", "127.0.0.1:0", "--log", "warn")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); r.Close() })
	if kill >= 0 {
		time.AfterFunc(kill, func() { cmd.Process.Kill() })
	}
	c := &child{cmd: cmd}
	sc := bufio.NewScanner(r)
	var said []string
	for sc.Scan() {
		line := sc.Text()
		said = append(said, line)
		if strings.HasPrefix(line, "truce_") {
			c.token = line
		}
		if _, addr, ok := strings.Cut(line, "listening on "); ok {
			c.url = addr
			break
		}
	}
	if c.url == "" && kill < 0 {
		t.Fatalf("truce serve did not say where it listens (%v):\n%s", sc.Err(), strings.Join(said, "\n"))
	}
	go io.Copy(io.Discard, r)
	return c
}

func post(url, token string, ids []string) error {
	var body bytes.Buffer
	for i, id := range ids {
		fmt.Fprintf(&body, `{"source":"crash-test","source_id":%q,"method":"heard","category":"explosion","time":"2026-01-02T03:04:05Z","lat":48.%04d,"lon":37.8,"cep_m":100,"marking":{"tlp":"GREEN"}}`+"\n", id, i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/v1/observations", &body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct{ Accepted, Duplicates int }
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || r.Accepted+r.Duplicates != len(ids) {
		return fmt.Errorf("status %s, %d accepted, %d duplicates of %d", resp.Status, r.Accepted, r.Duplicates, len(ids))
	}
	return nil
}

func checkJournal(t *testing.T, db string, acked map[string]bool, round int) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db, sqlite.Options{Now: func() time.Time { return time.Unix(0, 0) }})
	if err != nil {
		t.Fatalf("round %d: reopen after kill: %v", round, err)
	}
	defer st.Close()
	seen := map[string]int{}
	var last uint64
	err = st.Entries(ctx, 0, 0, func(e *journal.Entry, raw []byte) error {
		if e.Seq != last+1 {
			return fmt.Errorf("entry %d follows entry %d", e.Seq, last)
		}
		last = e.Seq
		if e.Observation != nil {
			seen[e.Observation.SourceID]++
		}
		return nil
	})
	if err != nil {
		t.Fatalf("round %d: journal: %v", round, err)
	}
	if head, err := st.Head(ctx); err != nil || head != last {
		t.Fatalf("round %d: Head = %d, %v; last entry %d", round, head, err, last)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("round %d: observation %s journaled %d times", round, id, n)
		}
	}
	missing := 0
	for id := range acked {
		if seen[id] != 1 {
			missing++
			if missing <= 5 {
				t.Errorf("round %d: acknowledged observation %s is not in the journal", round, id)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("round %d: %d acknowledged observations lost", round, missing)
	}
	if err := st.VerifyProjections(ctx); err != nil {
		t.Fatalf("round %d: projections differ from a rebuild: %v", round, err)
	}
	t.Logf("round %d: %d entries, %d acknowledged observations, all present once", round, last, len(acked))
}
