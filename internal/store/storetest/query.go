package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/auth"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/store"
	"github.com/truce-dev/truce/internal/truce"
)

// listAll follows the cursor of q from its start to the end, checking each
// page, and returns every record.
func listAll(t *testing.T, st store.Store, q store.ObservationQuery) []store.ObservationRecord {
	t.Helper()
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	var all []store.ObservationRecord
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatalf("observations %+v: cursor does not end", q)
		}
		page, next, err := st.Observations(bg, q)
		if err != nil {
			t.Fatalf("observations %+v: %v", q, err)
		}
		if len(page) > limit {
			t.Fatalf("observations %+v: got a page of %d, want at most %d", q, len(page), limit)
		}
		for i, r := range page {
			if r.ID <= q.After || i > 0 && r.ID <= page[i-1].ID {
				t.Fatalf("observations %+v: id %d out of order", q, r.ID)
			}
		}
		all = append(all, page...)
		if next == 0 {
			return all
		}
		if next <= q.After || len(page) > 0 && next < page[len(page)-1].ID {
			t.Fatalf("observations %+v: next %d goes back", q, next)
		}
		q.After = next
	}
}

func ids(rs []store.ObservationRecord) []uint64 {
	out := []uint64{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

type appended struct {
	id  uint64
	org truce.OrgID
	o   truce.Observation
}

func matches(q store.ObservationQuery, o *truce.Observation) bool {
	if !q.From.IsZero() && o.Time.Before(q.From) || !q.To.IsZero() && !o.Time.Before(q.To) {
		return false
	}
	if q.BBox != nil {
		p := o.Position()
		if !q.BBox.Contains(p.Lat, p.Lon) {
			return false
		}
	}
	if len(q.Categories) > 0 && !slices.Contains(q.Categories, o.Category) {
		return false
	}
	return len(q.Sources) == 0 || slices.Contains(q.Sources, o.Source)
}

func testFilters(t *testing.T, s *suite) {
	st := s.db(t).store()
	g := newGen(8)
	var recs []appended
	for b := range 4 {
		var es []journal.Entry
		for i := range 100 {
			es = append(es, entry("GBR", g.observation(genSources[(b+i)%len(genSources)])))
		}
		for i, o := range mustAppend(t, st, es...) {
			recs = append(recs, appended{o.Seq, "GBR", *es[i].Observation})
		}
	}
	byID := map[uint64]appended{}
	for _, r := range recs {
		byID[r.id] = r
	}
	pivot := recs[17].o.Time // an observation's exact time: From includes it, To excludes it
	queries := []store.ObservationQuery{
		{},
		{From: pivot},
		{To: pivot},
		{From: pivot.Add(-time.Nanosecond), To: pivot.Add(time.Nanosecond)},
		{From: pivot.Add(time.Nanosecond)},
		{From: baseTime.Add(6 * time.Hour), To: baseTime.Add(30 * time.Hour)},
		{BBox: &store.BBox{MinLat: 47.5, MinLon: 36.5, MaxLat: 48.5, MaxLon: 37.5}},
		{BBox: &store.BBox{MinLat: -18, MinLon: 179.5, MaxLat: -16, MaxLon: -179.5}}, // across the antimeridian
		{BBox: &store.BBox{MinLat: -18, MinLon: -180, MaxLat: -16, MaxLon: 180}},
		{BBox: &store.BBox{MinLat: 0, MinLon: 0, MaxLat: 1, MaxLon: 1}},
		{Categories: []truce.Category{truce.CategoryImpact, truce.CategoryUAV}},
		{Sources: []string{"uav-7"}},
		{Sources: []string{"uav-7", "monitor"}, Categories: []truce.Category{truce.CategoryExplosion}, From: baseTime.Add(12 * time.Hour)},
		{After: 150},
		{After: 150, Sources: []string{"radar-2"}, BBox: &store.BBox{MinLat: 47, MinLon: 36, MaxLat: 49, MaxLon: 38}},
	}
	for i, q := range queries {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			want := []uint64{}
			for _, r := range recs {
				if r.id > q.After && matches(q, &r.o) {
					want = append(want, r.id)
				}
			}
			for _, limit := range []int{7, 0, 1000} {
				q := q
				q.Viewer, q.Limit = admin, limit
				got := listAll(t, st, q)
				if !reflect.DeepEqual(ids(got), want) {
					t.Fatalf("limit %d: got ids %v, want %v", limit, ids(got), want)
				}
				for _, r := range got {
					w := byID[r.ID]
					if r.Org != w.org || !reflect.DeepEqual(r.Observation, w.o) {
						t.Fatalf("record %d: got %+v, want %+v", r.ID, r, w)
					}
					checkTime(t, fmt.Sprintf("record %d", r.ID), r.Recorded)
				}
			}
		})
	}
	if len(queries) > 0 {
		// Each record also reads back alone.
		for _, r := range recs[:50] {
			got, err := st.Observation(bg, admin, r.id)
			if err != nil {
				t.Fatalf("observation %d: %v", r.id, err)
			}
			if got.ID != r.id || !reflect.DeepEqual(got.Observation, r.o) {
				t.Fatalf("observation %d: got %+v, want %+v", r.id, got, r.o)
			}
		}
	}
}

func testLimits(t *testing.T, s *suite) {
	st := s.db(t).store()
	g := newGen(9)
	var es []journal.Entry
	for range 1100 {
		es = append(es, entry("GBR", g.observation("monitor")))
	}
	mustAppend(t, st, es...)
	for _, tc := range []struct{ limit, max int }{{0, 100}, {-5, 100}, {1, 1}, {100, 100}, {5000, 1000}} {
		page, next, err := st.Observations(bg, store.ObservationQuery{Viewer: admin, Limit: tc.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 || len(page) > tc.max || next == 0 {
			t.Errorf("limit %d: got %d records, next %d; want 1 to %d records and a next cursor", tc.limit, len(page), next, tc.max)
		}
	}
	if got := listAll(t, st, store.ObservationQuery{Viewer: admin, Limit: 5000}); len(got) != 1100 {
		t.Errorf("all pages: got %d records, want 1100", len(got))
	}
}

// The visibility table. Each case is a marking on an observation
// recorded by origin, with the organisations that may see it written out
// by hand from the TLP table of truce.Principal.CanSee:
//
//	CLEAR everyone; GREEN all but the public; AMBER coalition bodies and
//	nations; AMBER+STRICT coalition bodies; RED no one; plus rel_to and the
//	recorder, always; an unknown label: the recorder only.
//
// Organisations: JCCC (a coalition body), GBR (a nation), UA and RU
// (parties), press (the public).
var visibilityCases = []struct {
	tlp      truce.TLP
	relTo    []truce.OrgID
	origin   truce.OrgID
	audience []truce.OrgID
}{
	{truce.TLPClear, nil, "RU", []truce.OrgID{"JCCC", "GBR", "UA", "RU", "press"}},
	{truce.TLPGreen, nil, "RU", []truce.OrgID{"JCCC", "GBR", "UA", "RU"}},
	{truce.TLPAmber, nil, "RU", []truce.OrgID{"JCCC", "GBR", "RU"}},
	{truce.TLPAmberStrict, nil, "RU", []truce.OrgID{"JCCC", "RU"}},
	{truce.TLPRed, nil, "RU", []truce.OrgID{"RU"}},
	{truce.TLPClear, []truce.OrgID{"UA"}, "GBR", []truce.OrgID{"JCCC", "GBR", "UA", "RU", "press"}},
	{truce.TLPGreen, []truce.OrgID{"press"}, "GBR", []truce.OrgID{"JCCC", "GBR", "UA", "RU", "press"}},
	{truce.TLPAmber, []truce.OrgID{"UA"}, "JCCC", []truce.OrgID{"JCCC", "GBR", "UA"}},
	{truce.TLPAmberStrict, []truce.OrgID{"GBR"}, "UA", []truce.OrgID{"JCCC", "GBR", "UA"}},
	{truce.TLPAmberStrict, []truce.OrgID{"RU", "press"}, "JCCC", []truce.OrgID{"JCCC", "RU", "press"}},
	{truce.TLPRed, []truce.OrgID{"GBR", "UA"}, "RU", []truce.OrgID{"GBR", "UA", "RU"}},
	{truce.TLPRed, []truce.OrgID{"JCCC"}, "press", []truce.OrgID{"JCCC", "press"}},
	{truce.TLPRed, nil, "JCCC", []truce.OrgID{"JCCC"}},
	{truce.TLPAmber, nil, "press", []truce.OrgID{"JCCC", "GBR", "press"}},
	{truce.TLPGreen, nil, "press", []truce.OrgID{"JCCC", "GBR", "UA", "RU", "press"}},
	{truce.TLP("PURPLE"), []truce.OrgID{"UA"}, "GBR", []truce.OrgID{"GBR", "UA"}},
	{truce.TLP("PURPLE"), nil, "GBR", []truce.OrgID{"GBR"}},
}

var visibilityOrgs = []truce.Principal{
	{Org: "JCCC", Kind: truce.OrgCoalition},
	{Org: "GBR", Kind: truce.OrgNation},
	{Org: "UA", Kind: truce.OrgParty},
	{Org: "RU", Kind: truce.OrgParty},
	{Org: "press", Kind: truce.OrgPublic},
}

func testVisibility(t *testing.T, s *suite) {
	st := s.db(t).store()
	g := newGen(10)
	caseOf := map[uint64]int{}
	for i, c := range visibilityCases {
		o := g.observation("monitor")
		o.Marking = truce.Marking{TLP: c.tlp, RelTo: c.relTo}
		caseOf[mustAppend(t, st, entry(c.origin, o))[0].Seq] = i
	}
	for _, p := range visibilityOrgs {
		for _, role := range []truce.Role{truce.RoleViewer, truce.RoleAnalyst, truce.RoleLiaison, truce.RoleAdmin, truce.RoleSensor, ""} {
			p := p
			p.Role = role
			t.Run(fmt.Sprintf("%s-%s", p.Org, role), func(t *testing.T) {
				want := []uint64{}
				for id := uint64(1); id <= uint64(len(visibilityCases)); id++ {
					c := visibilityCases[caseOf[id]]
					// A sensor reports and reads nothing; a role that is not
					// a role reads nothing.
					if role != truce.RoleSensor && role != "" && slices.Contains(c.audience, p.Org) {
						want = append(want, id)
					}
				}
				for _, limit := range []int{1, 3, 0} {
					got := ids(listAll(t, st, store.ObservationQuery{Viewer: p, Limit: limit}))
					if !reflect.DeepEqual(got, want) {
						t.Errorf("limit %d: %s sees %v, want %v", limit, p.Org, got, want)
					}
				}
				for id := uint64(1); id <= uint64(len(visibilityCases)); id++ {
					_, err := st.Observation(bg, p, id)
					switch visible := slices.Contains(want, id); {
					case visible && err != nil:
						t.Errorf("observation %d (case %d): got %v, want it", id, caseOf[id], err)
					case !visible && !errors.Is(err, truce.ErrNotFound):
						t.Errorf("observation %d (case %d): got error %v, want ErrNotFound", id, caseOf[id], err)
					}
				}
			})
		}
	}
}

// token makes a token from a seeded source.
func token(t *testing.T, seed uint64, org truce.OrgID, kind truce.OrgKind, role truce.Role, label string) truce.Token {
	t.Helper()
	var key [32]byte
	key[0] = byte(seed)
	_, tok, err := auth.New(rand.NewChaCha8(key), org, kind, role, label, Start)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func testTokens(t *testing.T, s *suite) {
	st := s.db(t).store()
	if ts, err := st.Tokens(bg); err != nil || len(ts) != 0 {
		t.Errorf("tokens of an empty store: got %v, %v", ts, err)
	}
	var want []truce.Token
	for i, p := range []struct {
		org   truce.OrgID
		kind  truce.OrgKind
		role  truce.Role
		label string
	}{
		{"JCCC", truce.OrgCoalition, truce.RoleAdmin, "first admin"},
		{"UA", truce.OrgParty, truce.RoleLiaison, ""},
		{"sensor-net", truce.OrgCoalition, truce.RoleSensor, "acoustic array \"north\""},
	} {
		tok := token(t, uint64(i+1), p.org, p.kind, p.role, p.label)
		out := mustAppend(t, st, journal.Entry{Kind: journal.KindToken, Org: "JCCC", Token: &tok})
		if out[0].Duplicate || out[0].Seq != uint64(i+1) {
			t.Errorf("token %d: got outcome %+v", i, out[0])
		}
		want = append(want, tok)
	}
	es := allEntries(t, st)
	for i := range want {
		want[i].Created = es[i].Time
	}
	got, err := st.Tokens(bg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tokens: got %+v, want %+v", got, want)
	}
	for _, w := range want {
		got, err := st.TokenByHash(bg, w.Hash)
		if err != nil || !reflect.DeepEqual(got, w) {
			t.Errorf("token by hash %s: got %+v, %v, want %+v", w.ID, got, err, w)
		}
	}
	if _, err := st.TokenByHash(bg, auth.Hash("truce_unknown")); !errors.Is(err, truce.ErrNotFound) {
		t.Errorf("unknown token: got %v, want ErrNotFound", err)
	}
	// A token entry is no observation.
	if _, err := st.Observation(bg, admin, 1); !errors.Is(err, truce.ErrNotFound) {
		t.Errorf("observation 1 (a token entry): got %v, want ErrNotFound", err)
	}
}

// reads is everything the read side of a store says.
type reads struct {
	Lists  map[string][]store.ObservationRecord
	Gets   map[uint64]store.ObservationRecord
	Tokens []truce.Token
}

func readAll(t *testing.T, st store.Store) reads {
	t.Helper()
	r := reads{Lists: map[string][]store.ObservationRecord{}, Gets: map[uint64]store.ObservationRecord{}}
	for _, p := range visibilityOrgs {
		p.Role = truce.RoleViewer
		r.Lists[string(p.Org)] = listAll(t, st, store.ObservationQuery{Viewer: p, Limit: 50})
	}
	r.Lists["bbox"] = listAll(t, st, store.ObservationQuery{Viewer: admin, BBox: &store.BBox{MinLat: -18, MinLon: 179.5, MaxLat: -16, MaxLon: -179.5}})
	h := head(t, st)
	for id := uint64(1); id <= h; id++ {
		if rec, err := st.Observation(bg, admin, id); err == nil {
			r.Gets[id] = rec
		}
	}
	ts, err := st.Tokens(bg)
	if err != nil {
		t.Fatal(err)
	}
	r.Tokens = ts
	return r
}

func testRebuild(t *testing.T, s *suite) {
	st := s.db(t).store()
	g := newGen(11)
	n := 600
	if testing.Short() {
		n = 150
	}
	var es []journal.Entry
	for i := range n {
		o := g.observation(genSources[i%len(genSources)])
		c := visibilityCases[i%len(visibilityCases)]
		o.Marking = truce.Marking{TLP: c.tlp, RelTo: c.relTo}
		es = append(es, entry(c.origin, o))
		if i%100 == 0 {
			tok := token(t, uint64(i), "GBR", truce.OrgNation, truce.RoleViewer, fmt.Sprint(i))
			es = append(es, journal.Entry{Kind: journal.KindToken, Org: "JCCC", Token: &tok})
		}
	}
	mustAppend(t, st, es[:len(es)/2]...)
	mustAppend(t, st, es[len(es)/2:]...)
	v, _ := unwrap(st).(store.Verifier)
	if v != nil {
		if err := v.VerifyProjections(bg); err != nil {
			t.Fatalf("verify before rebuild: %v", err)
		}
	}
	before := readAll(t, st)
	if err := st.Rebuild(bg); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	after := readAll(t, st)
	if !reflect.DeepEqual(after, before) {
		t.Errorf("reads after rebuild differ from before")
	}
	if v != nil {
		if err := v.VerifyProjections(bg); err != nil {
			t.Errorf("verify after rebuild: %v", err)
		}
	}
	// The store goes on after a rebuild.
	out := mustAppend(t, st, entry("GBR", g.observation("monitor")))
	if want := head(t, st); out[0].Seq != want || want != uint64(len(es)+1) {
		t.Errorf("append after rebuild: got %+v, want seq %d", out, len(es)+1)
	}
	// Rebuilding an empty store is fine too.
	if err := s.db(t).store().Rebuild(bg); err != nil {
		t.Errorf("rebuild of an empty store: %v", err)
	}
}

func unwrap(st store.Store) store.Store {
	if u, ok := st.(interface{ Unwrap() store.Store }); ok {
		return u.Unwrap()
	}
	return st
}
