package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/ingest"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store"
	"github.com/truce-dev/truce/internal/truce"
)

func ingestCommand() *command {
	return &command{
		name:    "ingest",
		args:    "FILE...",
		summary: "send observation files (JSON, NDJSON, CSV, GeoJSON) to a server, or into a database offline",
		flags:   ingestFiles,
	}
}

// pending is a decoded observation waiting for its batch to be sent, with
// where it came from.
type pending struct {
	obs         truce.Observation
	index, line int
}

// sink takes a batch of observations and says what became of them.
type sink interface {
	send(ctx context.Context, batch []pending) (accepted, duplicates int, rejected []ingest.Rejection, err error)
	close() error
}

func ingestFiles(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
	srv := fs.String("server", "", "`URL` of a truce server to send to")
	token := fs.String("token", "", "bearer `token` for --server (default $TRUCE_TOKEN)")
	db := fs.String("db", "", "SQLite `file` to ingest into offline, instead of --server")
	org := fs.String("org", "coalition", "with --db: the `organisation` recorded as the observations' reporter")
	agr := fs.String("agreement", "", "agreement `file`: party claims must name one of its parties")
	format := fs.String("format", "", "input `format` (json, ndjson, csv, geojson); default: from each file's extension or content")
	batchSize := fs.Int("batch", 1000, "observations per request or commit")
	quiet := fs.Bool("quiet", false, "print no progress or rejected records, only the summary")
	return func(ctx context.Context, s *stdio, files []string) error {
		if len(files) == 0 {
			return usagef("name at least one FILE (- for standard input)")
		}
		if (*srv == "") == (*db == "") {
			return usagef("give exactly one of --server URL and --db FILE")
		}
		if *batchSize < 1 || *batchSize > 100000 {
			return usagef("--batch must be between 1 and 100000")
		}
		if *format != "" && !ingest.Format(*format).Valid() {
			return usagef("--format %q: want json, ndjson, csv or geojson", *format)
		}
		opts := ingest.Options{Now: time.Now()}
		if *agr != "" {
			a, err := loadAgreement(*agr)
			if err != nil {
				return err
			}
			opts.Parties = []truce.PartyID{}
			for _, p := range a.Parties {
				opts.Parties = append(opts.Parties, p.ID)
			}
		}
		var out sink
		switch {
		case *srv != "":
			tok := *token
			if tok == "" {
				tok = os.Getenv("TRUCE_TOKEN")
			}
			if tok == "" {
				return usagef("--server needs --token (or TRUCE_TOKEN)")
			}
			u, err := url.Parse(*srv)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usagef("--server %q is not an http(s) URL", *srv)
			}
			out = &serverSink{url: strings.TrimSuffix(u.String(), "/") + "/api/v1/observations", token: tok, client: &http.Client{Timeout: 5 * time.Minute}}
		default:
			if !truce.ValidOrgID(*org) {
				return usagef("--org %q is not an organisation id", *org)
			}
			st, err := openStore(ctx, *db, true)
			if err != nil {
				return err
			}
			out = &storeSink{st: st, org: truce.OrgID(*org)}
		}
		var total tally
		var ferr error
		for _, f := range files {
			t, err := ingestFile(ctx, s, f, ingest.Format(*format), opts, out, *batchSize, *quiet)
			total.add(t)
			if err != nil {
				ferr = fmt.Errorf("%s: %w", f, err)
				break
			}
		}
		if err := out.close(); err != nil && ferr == nil {
			ferr = err
		}
		fmt.Fprintf(s.out, "%s records: %s accepted, %s duplicates, %s rejected\n",
			thousands(float64(total.records), 0), thousands(float64(total.accepted), 0), thousands(float64(total.duplicates), 0), thousands(float64(total.rejected), 0))
		if ferr != nil {
			return fmt.Errorf("%w\n(records acknowledged before this are kept; sending the files again is safe: duplicates are skipped)", ferr)
		}
		if total.rejected > 0 {
			if total.rejected == 1 {
				return errors.New("1 record rejected")
			}
			return fmt.Errorf("%s records rejected", thousands(float64(total.rejected), 0))
		}
		return nil
	}
}

type tally struct{ records, accepted, duplicates, rejected int }

func (t *tally) add(u tally) {
	t.records += u.records
	t.accepted += u.accepted
	t.duplicates += u.duplicates
	t.rejected += u.rejected
}

// ingestFile streams one file through the decoder, sending its good records
// in batches; rejected records are listed on standard error.
func ingestFile(ctx context.Context, s *stdio, name string, format ingest.Format, opts ingest.Options, out sink, batchSize int, quiet bool) (tally, error) {
	var t tally
	var r io.Reader = os.Stdin
	var size int64 = -1
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return t, err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		r = f
	}
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 64<<10)
	if format == "" {
		head, _ := br.Peek(512)
		f, err := ingest.FormatOfFile(name, head)
		if err != nil {
			return t, invalidError{fmt.Errorf("%s: %w (say which with --format)", name, err)}
		}
		format = f
	}
	prog := newProgress(s.err, name, size, quiet)
	// Decoding and sending overlap: a sender goroutine sends each batch
	// while the next one is decoded. mu guards t, the progress line and
	// standard error, which both sides touch.
	var (
		mu      sync.Mutex
		sendErr error
		batches = make(chan []pending, 1)
		sent    = make(chan struct{})
	)
	reject := func(rej ingest.Rejection) { // with mu held
		t.rejected++
		if !quiet {
			prog.clear()
			fmt.Fprintf(s.err, "%s:%d: record %d: %s\n", name, rej.Line, rej.Index, fieldReason(rej))
		}
	}
	go func() {
		defer close(sent)
		for batch := range batches {
			mu.Lock()
			failed := sendErr != nil
			mu.Unlock()
			if failed {
				continue // drain: nothing more is sent after a failure
			}
			acc, dup, rejs, err := out.send(ctx, batch)
			mu.Lock()
			if err != nil {
				sendErr = err
			} else {
				t.accepted += acc
				t.duplicates += dup
				for _, rj := range rejs {
					// The sink numbers records within the batch: point back
					// at the file.
					if rj.Index >= 0 && rj.Index < len(batch) {
						rj.Index, rj.Line = batch[rj.Index].index, batch[rj.Index].line
					}
					reject(rj)
				}
				prog.update(cr.n.Load(), t.records)
			}
			mu.Unlock()
		}
	}()
	finish := func() error {
		close(batches)
		<-sent
		return sendErr
	}
	batch := make([]pending, 0, batchSize)
	dec := ingest.NewDecoder(br, format, opts)
	for i := 0; ; i++ {
		obs, rej, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if serr := finish(); serr != nil {
				return t, serr
			}
			return t, err
		}
		mu.Lock()
		t.records++
		if rej != nil {
			reject(*rej)
		}
		failed := sendErr
		mu.Unlock()
		if failed != nil {
			finish()
			return t, failed
		}
		if rej != nil {
			continue
		}
		batch = append(batch, pending{obs: obs, index: i, line: dec.Line()})
		if len(batch) == batchSize {
			batches <- batch
			batch = make([]pending, 0, batchSize)
		}
	}
	if len(batch) > 0 {
		batches <- batch
	}
	err := finish()
	prog.done(cr.n.Load(), t.records)
	return t, err
}

func fieldReason(r ingest.Rejection) string {
	if r.Field == "" {
		return r.Reason
	}
	return r.Field + ": " + r.Reason
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progress draws a one-line progress bar on a terminal, and nothing
// elsewhere.
type progress struct {
	w     io.Writer
	name  string
	size  int64
	on    bool
	drawn bool
}

func newProgress(w io.Writer, name string, size int64, quiet bool) *progress {
	on := false
	if f, ok := w.(*os.File); ok && !quiet {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			on = true
		}
	}
	return &progress{w: w, name: name, size: size, on: on}
}

func (p *progress) update(read int64, records int) {
	if !p.on {
		return
	}
	line := fmt.Sprintf("%s  %s records", p.name, thousands(float64(records), 0))
	if p.size > 0 {
		frac := min(float64(read)/float64(p.size), 1)
		const width = 30
		n := int(frac * width)
		line = fmt.Sprintf("%s  [%s%s] %3.0f%%  %s records", p.name, strings.Repeat("=", n), strings.Repeat(" ", width-n), frac*100, thousands(float64(records), 0))
	}
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	p.drawn = true
}

func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

func (p *progress) done(read int64, records int) {
	p.update(read, records)
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// serverSink posts batches as NDJSON to a truce server.
type serverSink struct {
	url, token string
	client     *http.Client
	buf        bytes.Buffer
}

type ingestResponse struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
	Rejected   []struct {
		Index int    `json:"index"`
		Line  int    `json:"line"`
		Field string `json:"field"`
		Error string `json:"error"`
	} `json:"rejected"`
	Error string `json:"error"`
}

func (s *serverSink) send(ctx context.Context, batch []pending) (int, int, []ingest.Rejection, error) {
	s.buf.Reset()
	enc := json.NewEncoder(&s.buf)
	for i := range batch {
		if err := enc.Encode(api.FromObservation(&batch[i].obs)); err != nil {
			return 0, 0, nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(s.buf.Bytes()))
	if err != nil {
		return 0, 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, 0, nil, err
	}
	defer resp.Body.Close()
	var r ingestResponse
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return 0, 0, nil, fmt.Errorf("read response: %w", err)
	}
	if jerr := json.Unmarshal(body, &r); jerr != nil || (resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnprocessableEntity) {
		msg := r.Error
		if msg == "" {
			msg = strings.TrimSpace(string(body))
		}
		return 0, 0, nil, fmt.Errorf("server answered %s: %s", resp.Status, msg)
	}
	rejs := make([]ingest.Rejection, len(r.Rejected))
	for i, rj := range r.Rejected {
		rejs[i] = ingest.Rejection{Index: rj.Index, Line: rj.Line, Field: rj.Field, Reason: rj.Error}
	}
	return r.Accepted, r.Duplicates, rejs, nil
}

func (s *serverSink) close() error { return nil }

// storeSink appends batches to a store directly.
type storeSink struct {
	st      store.Store
	org     truce.OrgID
	entries []journal.Entry
}

func (s *storeSink) send(ctx context.Context, batch []pending) (int, int, []ingest.Rejection, error) {
	s.entries = s.entries[:0]
	for i := range batch {
		s.entries = append(s.entries, journal.Entry{Kind: journal.KindObservation, Org: s.org, Observation: &batch[i].obs})
	}
	outs, err := s.st.Append(ctx, s.entries)
	if err != nil {
		return 0, 0, nil, err
	}
	acc, dup := 0, 0
	for _, o := range outs {
		if o.Duplicate {
			dup++
		} else {
			acc++
		}
	}
	return acc, dup, nil, nil
}

func (s *storeSink) close() error { return s.st.Close() }
