package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store"
	"github.com/truce-dev/truce/internal/truce"
)

// mustAppend appends and fails the test on error.
func mustAppend(t *testing.T, st store.Store, es ...journal.Entry) []store.Outcome {
	t.Helper()
	out, err := st.Append(bg, es)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	if len(out) != len(es) {
		t.Fatalf("append of %d entries: got %d outcomes", len(es), len(out))
	}
	return out
}

func head(t *testing.T, st store.Store) uint64 {
	t.Helper()
	h, err := st.Head(bg)
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	return h
}

// allEntries returns the journal, checking that raw is what Encode makes
// of the entry and that Decode round-trips it.
func allEntries(t *testing.T, st store.Store) []journal.Entry {
	t.Helper()
	var es []journal.Entry
	err := st.Entries(bg, 0, 0, func(e *journal.Entry, raw []byte) error {
		enc, err := journal.Encode(nil, e)
		if err != nil {
			return fmt.Errorf("entry %d: encode: %v", e.Seq, err)
		}
		if !bytes.Equal(enc, raw) {
			return fmt.Errorf("entry %d: raw is\n%s\nwant\n%s", e.Seq, raw, enc)
		}
		d, err := journal.Decode(raw)
		if err != nil {
			return fmt.Errorf("entry %d: decode raw: %v", e.Seq, err)
		}
		if !reflect.DeepEqual(d, *e) {
			return fmt.Errorf("entry %d: decode(raw) = %+v, want %+v", e.Seq, d, *e)
		}
		es = append(es, *e)
		return nil
	})
	if err != nil {
		t.Fatalf("entries: %v", err)
	}
	return es
}

// checkTime checks that an entry time is a reading of a Clock, rounded to
// microseconds, in UTC.
func checkTime(t *testing.T, what string, got time.Time) {
	t.Helper()
	start := Start.UTC().Round(truce.TimeUnit)
	if got.Location() != time.UTC || got.Nanosecond()%1000 != 0 || got.Before(start) || got.Sub(start)%(1500*time.Microsecond) != 0 {
		t.Errorf("%s: time %v is not a clock reading rounded to µs in UTC", what, got)
	}
}

func testEmpty(t *testing.T, s *suite) {
	st := s.db(t).store()
	if h := head(t, st); h != 0 {
		t.Errorf("head of an empty store: got %d, want 0", h)
	}
	if es := allEntries(t, st); len(es) != 0 {
		t.Errorf("entries of an empty store: got %d, want 0", len(es))
	}
	if out, err := st.Append(bg, nil); err != nil || len(out) != 0 {
		t.Errorf("append of nothing: got %v, %v, want no outcomes", out, err)
	}
	page, next, err := st.Observations(bg, store.ObservationQuery{Viewer: admin})
	if err != nil || len(page) != 0 || next != 0 {
		t.Errorf("observations of an empty store: got %d records, next %d, %v", len(page), next, err)
	}
	if _, err := st.Observation(bg, admin, 1); !errors.Is(err, truce.ErrNotFound) {
		t.Errorf("observation 1 of an empty store: got %v, want ErrNotFound", err)
	}
}

var admin = truce.Principal{Org: "JCCC", Kind: truce.OrgCoalition, Role: truce.RoleAdmin}

func testConcurrentAppends(t *testing.T, s *suite) {
	const goroutines, calls, per = 8, 50, 3
	st := s.db(t).store()
	g := newGen(1)
	batches := make([][]journal.Entry, goroutines*calls)
	for i := range batches {
		for range per {
			batches[i] = append(batches[i], entry("JCCC", g.observation(genSources[i%len(genSources)])))
		}
	}
	outs := make([][]store.Outcome, len(batches))
	errs := make([]error, len(batches))
	var wg sync.WaitGroup
	for gi := range goroutines {
		wg.Go(func() {
			for c := range calls {
				i := gi*calls + c
				outs[i], errs[i] = st.Append(bg, batches[i])
			}
		})
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for i, out := range outs {
		if errs[i] != nil {
			t.Fatalf("append %d: %v", i, errs[i])
		}
		for j, o := range out {
			if o.Duplicate || seen[o.Seq] {
				t.Fatalf("append %d entry %d: got outcome %+v, want a new seq", i, j, o)
			}
			if j > 0 && o.Seq <= out[j-1].Seq {
				t.Errorf("append %d: outcomes %v not in increasing order", i, out)
			}
			seen[o.Seq] = true
			if got := batches[i][j].Seq; got != o.Seq {
				t.Errorf("append %d entry %d: entry Seq set to %d, want %d", i, j, got, o.Seq)
			}
		}
	}
	const n = goroutines * calls * per
	for seq := uint64(1); seq <= n; seq++ {
		if !seen[seq] {
			t.Fatalf("seq %d was not assigned; seqs are not contiguous from 1", seq)
		}
	}
	if h := head(t, st); h != n {
		t.Errorf("head: got %d, want %d", h, n)
	}
	es := allEntries(t, st)
	if len(es) != n {
		t.Fatalf("entries: got %d, want %d", len(es), n)
	}
	bySeq := map[uint64]*journal.Entry{}
	for i := range batches {
		for j := range batches[i] {
			bySeq[outs[i][j].Seq] = &batches[i][j]
		}
	}
	for i, e := range es {
		if e.Seq != uint64(i+1) {
			t.Fatalf("entries[%d].Seq: got %d, want %d", i, e.Seq, i+1)
		}
		want := bySeq[e.Seq]
		if !reflect.DeepEqual(e.Observation, want.Observation) || e.Org != want.Org || !e.Time.Equal(want.Time) {
			t.Fatalf("entry %d: got %+v, want %+v", e.Seq, e, *want)
		}
		checkTime(t, fmt.Sprintf("entry %d", e.Seq), e.Time)
	}
}

func testOutcomes(t *testing.T, s *suite) {
	st := s.db(t).store()
	g := newGen(2)
	first := []journal.Entry{entry("GBR", g.observation("monitor")), entry("GBR", g.observation("monitor"))}
	out := mustAppend(t, st, first...)
	want := []store.Outcome{{Seq: 1}, {Seq: 2}}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("first append: got %v, want %v", out, want)
	}
	out = mustAppend(t, st, entry("GBR", g.observation("uav-7")))
	if want := []store.Outcome{{Seq: 3}}; !reflect.DeepEqual(out, want) {
		t.Errorf("second append: got %v, want %v", out, want)
	}
	es := allEntries(t, st)
	for i, e := range es[:2] {
		if e.Seq != first[i].Seq || !e.Time.Equal(first[i].Time) {
			t.Errorf("entry %d: Append set Seq %d, Time %v; journal holds %d, %v", i, first[i].Seq, first[i].Time, e.Seq, e.Time)
		}
	}
	if !es[0].Time.Equal(es[1].Time) {
		t.Errorf("entries of one append: times %v and %v differ", es[0].Time, es[1].Time)
	}
	if !es[2].Time.After(es[1].Time) {
		t.Errorf("later append: time %v, not after %v", es[2].Time, es[1].Time)
	}
}

func testDuplicates(t *testing.T, s *suite) {
	st := s.db(t).store()
	g := newGen(3)
	a, b := g.observation("monitor"), g.observation("monitor")
	a2 := a // same source and source id, different content: still a duplicate
	a2.Text = "reported again"
	out := mustAppend(t, st, entry("GBR", a), entry("GBR", b), entry("GBR", a2), entry("GBR", b))
	want := []store.Outcome{{Seq: 1}, {Seq: 2}, {Seq: 1, Duplicate: true}, {Seq: 2, Duplicate: true}}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("append with repeats: got %v, want %v", out, want)
	}
	c := g.observation("uav-7")
	out = mustAppend(t, st, entry("GBR", b), entry("GBR", c))
	want = []store.Outcome{{Seq: 2, Duplicate: true}, {Seq: 3}}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("append repeating an earlier one: got %v, want %v", out, want)
	}
	out = mustAppend(t, st, entry("GBR", a), entry("GBR", c))
	want = []store.Outcome{{Seq: 1, Duplicate: true}, {Seq: 3, Duplicate: true}}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("append of duplicates only: got %v, want %v", out, want)
	}
	if h := head(t, st); h != 3 {
		t.Errorf("head: got %d, want 3", h)
	}
	es := allEntries(t, st)
	if len(es) != 3 || es[0].Observation.Text != a.Text {
		t.Errorf("journal: got %d entries, first text %q; want 3, the first report kept", len(es), es[0].Observation.Text)
	}
	// The same source id from another source is not a duplicate.
	d := a
	d.Source = "radar-2"
	out = mustAppend(t, st, entry("GBR", d))
	if want := []store.Outcome{{Seq: 4}}; !reflect.DeepEqual(out, want) {
		t.Errorf("same source id, other source: got %v, want %v", out, want)
	}
	// The same source and source id recorded by another organisation is
	// that organisation's own report: one organisation can neither learn of
	// nor suppress another's records by reusing their ids.
	out = mustAppend(t, st, entry("UA", a))
	if want := []store.Outcome{{Seq: 5}}; !reflect.DeepEqual(out, want) {
		t.Errorf("same source and id, other organisation: got %v, want %v", out, want)
	}
	// Concurrent appends of the same observations: each is written once.
	var wg sync.WaitGroup
	e := g.observation("acoustic-1")
	outs := make([][]store.Outcome, 8)
	for i := range outs {
		wg.Go(func() {
			var err error
			if outs[i], err = st.Append(bg, []journal.Entry{entry("GBR", e)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	news := 0
	for _, out := range outs {
		if len(out) == 1 && out[0].Seq != 6 {
			t.Errorf("concurrent repeats: got %v, want seq 6", out)
		}
		if len(out) == 1 && !out[0].Duplicate {
			news++
		}
	}
	if news != 1 {
		t.Errorf("concurrent repeats: %d appends wrote the entry, want 1", news)
	}
}

func testDuplicatesAcrossReopen(t *testing.T, s *suite) {
	d := s.db(t)
	st := d.store()
	g := newGen(4)
	a, b := g.observation("monitor"), g.observation("radar-2")
	mustAppend(t, st, entry("GBR", a), entry("GBR", b))
	if err := st.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, err := st.Append(bg, []journal.Entry{entry("GBR", g.observation("monitor"))}); err == nil {
		t.Errorf("append after close: no error")
	}
	st = d.store()
	if h := head(t, st); h != 2 {
		t.Errorf("head after reopen: got %d, want 2", h)
	}
	c := g.observation("monitor")
	out := mustAppend(t, st, entry("GBR", b), entry("GBR", c), entry("GBR", a))
	want := []store.Outcome{{Seq: 2, Duplicate: true}, {Seq: 3}, {Seq: 1, Duplicate: true}}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("append after reopen: got %v, want %v", out, want)
	}
	allEntries(t, st)
}

func testEntries(t *testing.T, s *suite) {
	st := s.db(t).store()
	g := newGen(5)
	var in []journal.Entry
	for i := range 25 {
		in = append(in, entry(truce.OrgID([]string{"GBR", "UA", "JCCC"}[i%3]), g.observation(genSources[i%4])))
	}
	tok := token(t, 5, "GBR", truce.OrgNation, truce.RoleAnalyst, "desk")
	in = append(in, journal.Entry{Kind: journal.KindToken, Org: "JCCC", Token: &tok})
	mustAppend(t, st, in[:10]...)
	mustAppend(t, st, in[10:]...)
	es := allEntries(t, st)
	if len(es) != len(in) {
		t.Fatalf("entries: got %d, want %d", len(es), len(in))
	}
	for i, e := range es {
		want := in[i]
		if want.Token != nil {
			tk := *want.Token
			tk.Created = e.Time
			want.Token = &tk
		}
		if !reflect.DeepEqual(e, want) {
			t.Errorf("entries[%d]: got %+v, want %+v", i, e, want)
		}
		checkTime(t, fmt.Sprintf("entry %d", e.Seq), e.Time)
	}
	for _, tc := range []struct {
		after      uint64
		limit      int
		first, end uint64 // seqs passed: first..end-1
	}{
		{0, 0, 1, 27},
		{0, 5, 1, 6},
		{7, 0, 8, 27},
		{7, 3, 8, 11},
		{26, 0, 0, 0},
		{30, 10, 0, 0},
	} {
		var got []uint64
		if err := st.Entries(bg, tc.after, tc.limit, func(e *journal.Entry, raw []byte) error {
			got = append(got, e.Seq)
			return nil
		}); err != nil {
			t.Fatalf("entries after %d limit %d: %v", tc.after, tc.limit, err)
		}
		var want []uint64
		for s := tc.first; s < tc.end; s++ {
			want = append(want, s)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("entries after %d limit %d: got seqs %v, want %v", tc.after, tc.limit, got, want)
		}
	}
	stop := errors.New("stop here")
	n := 0
	err := st.Entries(bg, 0, 0, func(*journal.Entry, []byte) error {
		if n++; n == 4 {
			return stop
		}
		return nil
	})
	if err != stop || n != 4 {
		t.Errorf("entries with fn failing at the 4th: got %v after %d calls, want the fn's error as is after 4", err, n)
	}
}

func testCancelled(t *testing.T, s *suite) {
	st := s.db(t).store()
	g := newGen(6)
	ctx, cancel := context.WithCancel(bg)
	cancel()
	out, err := st.Append(ctx, []journal.Entry{entry("GBR", g.observation("monitor"))})
	if !errors.Is(err, context.Canceled) || out != nil {
		t.Errorf("append with a cancelled context: got %v, %v, want context.Canceled", out, err)
	}
	if h := head(t, st); h != 0 {
		t.Errorf("head: got %d, want 0", h)
	}
	out = mustAppend(t, st, entry("GBR", g.observation("monitor")))
	if want := []store.Outcome{{Seq: 1}}; !reflect.DeepEqual(out, want) {
		t.Errorf("next append: got %v, want %v", out, want)
	}
}

func testUnencodable(t *testing.T, s *suite) {
	st := s.db(t).store()
	g := newGen(7)
	mustAppend(t, st, entry("GBR", g.observation("monitor")))
	bad := g.observation("monitor")
	bad.Text = "not \xff UTF-8"
	good := g.observation("monitor")
	for _, es := range [][]journal.Entry{
		{entry("GBR", bad)},
		{entry("GBR", good), entry("GBR", bad)},
		{{Kind: "nonsense", Org: "GBR"}},
	} {
		if out, err := st.Append(bg, es); err == nil {
			t.Errorf("append of an entry that cannot be encoded: got %v, want an error", out)
		}
	}
	if h := head(t, st); h != 1 {
		t.Errorf("head after failed appends: got %d, want 1", h)
	}
	// The good entry of the failed append was not written: it is new now.
	out := mustAppend(t, st, entry("GBR", good))
	if want := []store.Outcome{{Seq: 2}}; !reflect.DeepEqual(out, want) {
		t.Errorf("next append: got %v, want %v", out, want)
	}
	// A failing Append among concurrent good ones fails alone.
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		es := []journal.Entry{entry("GBR", g.observation("radar-2"))}
		if i == 3 {
			es = append(es, entry("GBR", bad))
		}
		wg.Go(func() { _, errs[i] = st.Append(bg, es) })
	}
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (i == 3) {
			t.Errorf("concurrent append %d: got error %v", i, err)
		}
	}
	if h := head(t, st); h != 7 {
		t.Errorf("head: got %d, want 7", h)
	}
	allEntries(t, st)
}
