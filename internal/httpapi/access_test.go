package httpapi

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-json"
	"github.com/truce-dev/truce/internal/truce"
)

// The organisations of the access test: one of each kind, the one that
// records the fixtures, and one that is none of them.
const (
	orgCoalition = truce.OrgID("MISSION")
	orgNation    = truce.OrgID("GBR")
	orgParty     = truce.OrgID("UA")
	orgPublic    = truce.OrgID("PRESS")
	orgRecorder  = truce.OrgID("RECORDER")
	orgOther     = truce.OrgID("OTHER")
)

var kinds = []struct {
	kind truce.OrgKind
	org  truce.OrgID
}{
	{truce.OrgCoalition, orgCoalition},
	{truce.OrgNation, orgNation},
	{truce.OrgParty, orgParty},
	{truce.OrgPublic, orgPublic},
}

// visibility is who sees what, written out by hand from docs/access.md
// (not computed by truce.Principal.CanSee): for each fixture, recorded by
// by (RECORDER when empty) with this label and rel_to, whether a reader of
// a coalition body, a nation, a party and the public sees it: "C N P U",
// "-" for not.
var visibility = []struct {
	tlp   truce.TLP
	relTo truce.OrgID
	by    truce.OrgID
	sees  string
}{
	{truce.TLPClear, "", "", "CNPU"},
	{truce.TLPClear, orgCoalition, "", "CNPU"},
	{truce.TLPClear, orgNation, "", "CNPU"},
	{truce.TLPClear, orgParty, "", "CNPU"},
	{truce.TLPClear, orgPublic, "", "CNPU"},
	{truce.TLPClear, orgOther, "", "CNPU"},

	{truce.TLPGreen, "", "", "CNP-"},
	{truce.TLPGreen, orgCoalition, "", "CNP-"},
	{truce.TLPGreen, orgNation, "", "CNP-"},
	{truce.TLPGreen, orgParty, "", "CNP-"},
	{truce.TLPGreen, orgPublic, "", "CNPU"},
	{truce.TLPGreen, orgOther, "", "CNP-"},

	{truce.TLPAmber, "", "", "CN--"},
	{truce.TLPAmber, orgCoalition, "", "CN--"},
	{truce.TLPAmber, orgNation, "", "CN--"},
	{truce.TLPAmber, orgParty, "", "CNP-"},
	{truce.TLPAmber, orgPublic, "", "CN-U"},
	{truce.TLPAmber, orgOther, "", "CN--"},

	{truce.TLPAmberStrict, "", "", "C---"},
	{truce.TLPAmberStrict, orgCoalition, "", "C---"},
	{truce.TLPAmberStrict, orgNation, "", "CN--"},
	{truce.TLPAmberStrict, orgParty, "", "C-P-"},
	{truce.TLPAmberStrict, orgPublic, "", "C--U"},
	{truce.TLPAmberStrict, orgOther, "", "C---"},

	{truce.TLPRed, "", "", "----"},
	{truce.TLPRed, orgCoalition, "", "C---"},
	{truce.TLPRed, orgNation, "", "-N--"},
	{truce.TLPRed, orgParty, "", "--P-"},
	{truce.TLPRed, orgPublic, "", "---U"},
	{truce.TLPRed, orgOther, "", "----"},

	// The recording organisation always sees its own.
	{truce.TLPRed, "", orgCoalition, "C---"},
	{truce.TLPRed, "", orgNation, "-N--"},
	{truce.TLPRed, "", orgParty, "--P-"},
	{truce.TLPRed, "", orgPublic, "---U"},
	{truce.TLPAmberStrict, orgOther, orgNation, "CN--"},
	{truce.TLPAmber, "", orgParty, "CNP-"},
	{truce.TLPGreen, "", orgPublic, "CNPU"},
}

// readers says which roles may read at all, by hand from docs/access.md.
var readers = []struct {
	role  truce.Role
	reads bool
}{
	{truce.RoleAdmin, true},
	{truce.RoleAnalyst, true},
	{truce.RoleCommissioner, true},
	{truce.RoleMonitor, true},
	{truce.RoleSensor, false},
	{truce.RoleLiaison, true},
	{truce.RolePlanner, true},
	{truce.RoleViewer, true},
}

func fixtureName(i int) string {
	v := visibility[i]
	by := v.by
	if by == "" {
		by = orgRecorder
	}
	return fmt.Sprintf("%d %s rel %s by %s", i, v.tlp, v.relTo, by)
}

// TestAccess checks, for every role of every kind of organisation, that
// listing, getting one by one and streaming show exactly the fixtures the
// hand-written table says, and that the stream shows tokens of the
// reader's own organisation only.
func TestAccess(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()

	type principal struct {
		kind   int // index in kinds
		role   int // index in readers
		secret string
	}
	var principals []principal
	tokensOf := map[truce.OrgID][]string{} // token ids by organisation
	for k := range kinds {
		for r := range readers {
			secret := e.token(t, kinds[k].org, kinds[k].kind, readers[r].role)
			principals = append(principals, principal{k, r, secret})
			tokensOf[kinds[k].org] = append(tokensOf[kinds[k].org], fmt.Sprint(e.head(t)))
		}
	}
	id := map[string]uint64{}
	for i, v := range visibility {
		m := truce.Marking{TLP: v.tlp}
		if v.relTo != "" {
			m.RelTo = []truce.OrgID{v.relTo}
		}
		by := v.by
		if by == "" {
			by = orgRecorder
		}
		name := fixtureName(i)
		id[name] = e.appendObservations(t, by, fixture("fixture", name, m))[0]
	}
	// The stream reads up to this last entry, which everyone sees.
	end := e.appendObservations(t, orgRecorder, fixture("fixture", "end", truce.Marking{TLP: truce.TLPClear}))[0]
	if _, err := e.db.Head(ctx); err != nil {
		t.Fatal(err)
	}

	for _, p := range principals {
		k, r := kinds[p.kind], readers[p.role]
		t.Run(fmt.Sprintf("%s %s %s", k.kind, k.org, r.role), func(t *testing.T) {
			var want []string
			if r.reads {
				for i, v := range visibility {
					if v.sees[p.kind] != '-' {
						want = append(want, fixtureName(i))
					}
				}
			}

			// GET /api/v1/observations, a page of 7 at a time.
			var listed []string
			path := "/api/v1/observations?source=fixture&limit=7"
			for pages := 0; ; pages++ {
				resp, b := e.do(t, request{method: "GET", path: path, token: p.secret})
				if !r.reads {
					if resp.StatusCode != 403 {
						t.Errorf("list: got %d, want 403", resp.StatusCode)
					}
					break
				}
				if resp.StatusCode != 200 {
					t.Fatalf("list: got %d %s", resp.StatusCode, b)
				}
				var page observationPage
				if err := json.Unmarshal(b, &page); err != nil {
					t.Fatal(err)
				}
				for _, o := range page.Observations {
					listed = append(listed, o.SourceID)
				}
				if page.NextCursor == "" {
					break
				}
				if pages > 100 {
					t.Fatal("list: too many pages")
				}
				path = "/api/v1/observations?source=fixture&limit=7&cursor=" + url.QueryEscape(page.NextCursor)
			}
			listed = slices.DeleteFunc(listed, func(s string) bool { return s == "end" })
			if !slices.Equal(listed, want) {
				t.Errorf("list:\ngot  %q\nwant %q", listed, want)
			}

			// GET /api/v1/observations/{id} for every fixture.
			var got []string
			for i := range visibility {
				name := fixtureName(i)
				resp, b := e.do(t, request{method: "GET", path: fmt.Sprintf("/api/v1/observations/%d", id[name]), token: p.secret})
				switch {
				case !r.reads:
					if resp.StatusCode != 403 {
						t.Errorf("get %s: got %d, want 403", name, resp.StatusCode)
					}
				case resp.StatusCode == 200:
					got = append(got, name)
				case resp.StatusCode != 404:
					t.Errorf("get %s: got %d %s, want 200 or 404", name, resp.StatusCode, b)
				case !strings.Contains(string(b), `"error"`):
					t.Errorf("get %s: 404 body %s", name, b)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("get:\ngot  %q\nwant %q", got, want)
			}

			// GET /api/v1/stream from the start.
			if !r.reads {
				resp, _ := e.do(t, request{method: "GET", path: "/api/v1/stream?after=0", token: p.secret})
				if resp.StatusCode != 403 {
					t.Errorf("stream: got %d, want 403", resp.StatusCode)
				}
				return
			}
			sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			s := e.openStream(t, sctx, p.secret, "", "?after=0")
			var streamed, tokens []string
			for {
				ev, err := s.nextEvent()
				if err != nil {
					t.Fatalf("stream: %v", err)
				}
				if ev.event == "token" {
					if strings.Contains(ev.data, "hash") {
						t.Errorf("stream: token event %s shows the hash", ev.data)
					}
					tokens = append(tokens, ev.id)
					continue
				}
				var rec struct {
					ID       uint64 `json:"id"`
					SourceID string `json:"source_id"`
				}
				if err := json.Unmarshal([]byte(ev.data), &rec); err != nil || ev.event != "observation" || ev.id != strconv.FormatUint(rec.ID, 10) {
					t.Fatalf("stream: event %+v (%v)", ev, err)
				}
				if rec.ID == end {
					break
				}
				streamed = append(streamed, rec.SourceID)
			}
			if !slices.Equal(streamed, want) {
				t.Errorf("stream:\ngot  %q\nwant %q", streamed, want)
			}
			// Token events go to the admins of the token's organisation.
			var wantTokens []string
			if r.role == truce.RoleAdmin {
				wantTokens = tokensOf[k.org]
			}
			if !slices.Equal(tokens, wantTokens) {
				t.Errorf("stream tokens: got %q, want %q", tokens, wantTokens)
			}
		})
	}
}
