package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/pledge"
	"github.com/truce-dev/truce/internal/truce"
)

const maxPledgeBody = 64 << 10

// journalOne appends one entry recorded by org.
func (s *Server) journalOne(ctx context.Context, e journal.Entry) error {
	if _, err := s.cfg.Store.Append(ctx, []journal.Entry{e}); err != nil {
		return fmt.Errorf("httpapi: journal %s: %w", e.Kind, err)
	}
	return nil
}

// Who may do what with commitments.

// canEditPledges reports whether p may record and advance nation n's
// pledges: the nation's own admins and planners, and the coalition
// secretariat's admins (who record pledges announced in public).
func canEditPledges(p truce.Principal, n truce.NationID) bool {
	switch {
	case p.Kind == truce.OrgNation && p.Org == n:
		return p.Role == truce.RoleAdmin || p.Role == truce.RolePlanner
	case p.Kind == truce.OrgCoalition:
		return p.Role == truce.RoleAdmin
	}
	return false
}

// canEditSecretariat reports whether p may edit requirements and support
// records: the coalition's admins and planners (the secretariat).
func canEditSecretariat(p truce.Principal) bool {
	return p.Kind == truce.OrgCoalition && (p.Role == truce.RoleAdmin || p.Role == truce.RolePlanner)
}

func seesPledge(p truce.Principal) func(*truce.Pledge) bool {
	return func(pl *truce.Pledge) bool { return p.CanSee(pl.Marking, pl.Nation) }
}

func seesRequirement(p truce.Principal) func(*truce.Requirement) bool {
	return func(r *truce.Requirement) bool { return p.CanSee(r.Marking, "") }
}

// activationMarking: activations go to the coalition and its nations.
var activationMarking = truce.Marking{TLP: truce.TLPAmber}

// mayRead answers 403 to those who may read nothing (sensors), reporting
// whether p may read.
func mayRead(w http.ResponseWriter, p truce.Principal, what string) bool {
	if !p.CanRead() {
		forbidden(w, p, "read "+what)
		return false
	}
	return true
}

// readBook is the start of a commitments read: the Book (503 without one)
// and the caller, who must be a reader (403 otherwise).
func (s *Server) readBook(w http.ResponseWriter, r *http.Request, what string) (*pledge.Book, truce.Principal, bool) {
	b := s.book(w, r)
	if b == nil {
		return nil, truce.Principal{}, false
	}
	p := principalOf(r)
	return b, p, mayRead(w, p, what)
}

// book returns the commitments, brought up to the journal's head: another
// process (truce pledge import) may have journaled some since the server
// started. Without a Book it answers 503 and returns nil.
func (s *Server) book(w http.ResponseWriter, r *http.Request) *pledge.Book {
	b := s.cfg.Book
	if b == nil {
		writeErrorMessage(w, http.StatusServiceUnavailable, "commitments are not kept by this server")
		return nil
	}
	s.bookSync.Lock()
	defer s.bookSync.Unlock()
	err := s.cfg.Store.Entries(r.Context(), s.bookSeq, 0, func(e *journal.Entry, _ []byte) error {
		// Canonical copies: the entry is valid only during the call. The
		// Book keeps the latest version of each record, so entries it
		// applied itself change nothing.
		b.Apply(e.Pledge, e.Requirement, e.Activation, e.Support)
		s.bookSeq = e.Seq
		return nil
	})
	if err != nil {
		s.writeError(w, r, fmt.Errorf("httpapi: read commitments from the journal: %w", err))
		return nil
	}
	return b
}

// query reads r's query parameters: each must be one of allowed.
func query(r *http.Request, allowed ...string) (map[string]string, error) {
	out := map[string]string{}
	for k, vs := range r.URL.Query() {
		if !slices.Contains(allowed, k) {
			return nil, invalid(k, "unknown parameter (want one of "+strings.Join(allowed, ", ")+")")
		}
		out[k] = vs[len(vs)-1]
	}
	return out, nil
}

type pledgesAnswer struct {
	Pledges []api.Pledge `json:"pledges"`
}

func (s *Server) listPledges(w http.ResponseWriter, r *http.Request) {
	b, p, ok := s.readBook(w, r, "pledges")
	if !ok {
		return
	}
	q, err := query(r, "nation", "capability", "stage", "requirement")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if v := q["stage"]; v != "" {
		if _, err := truce.ParsePledgeStage(v); err != nil {
			s.writeError(w, r, invalid("stage", err.Error()))
			return
		}
	}
	if v := q["capability"]; v != "" {
		if _, err := truce.ParseCapability(v); err != nil {
			s.writeError(w, r, invalid("capability", err.Error()))
			return
		}
	}
	sees := seesPledge(p)
	res := pledgesAnswer{Pledges: []api.Pledge{}}
	for _, pl := range b.Pledges(func(pl *truce.Pledge) bool {
		return sees(pl) && (q["nation"] == "" || string(pl.Nation) == q["nation"]) && (q["capability"] == "" || string(pl.Capability) == q["capability"]) &&
			(q["stage"] == "" || string(pl.Stage) == q["stage"]) && (q["requirement"] == "" || pl.Requirement == q["requirement"])
	}) {
		res.Pledges = append(res.Pledges, api.FromPledge(&pl))
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) getPledge(w http.ResponseWriter, r *http.Request) {
	b, p, ok := s.readBook(w, r, "pledges")
	if !ok {
		return
	}
	pl, ok := b.Pledge(r.PathValue("id"))
	if !ok || !seesPledge(p)(&pl) {
		s.writeError(w, r, fmt.Errorf("httpapi: pledge %q: %w", r.PathValue("id"), truce.ErrNotFound))
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(pl.Version)))
	writeJSON(w, http.StatusOK, api.FromPledge(&pl))
}

func (s *Server) commitPledge(ctx context.Context, org truce.OrgID) func(truce.Pledge) error {
	return func(pl truce.Pledge) error {
		c := pl.Canonical()
		return s.journalOne(ctx, journal.Entry{Kind: journal.KindPledge, Org: org, Pledge: &c})
	}
}

func (s *Server) postPledge(w http.ResponseWriter, r *http.Request) {
	b := s.book(w, r)
	if b == nil {
		return
	}
	p := principalOf(r)
	var req api.PledgeRequest
	if !s.decodeBody(w, r, maxPledgeBody, "a pledge", &req) {
		return
	}
	if req.Nation == "" && p.Kind == truce.OrgNation {
		req.Nation = string(p.Org)
	}
	if !canEditPledges(p, truce.NationID(req.Nation)) {
		forbidden(w, p, "record pledges of "+strconv.Quote(req.Nation)+" (the nation's own admins and planners, or the coalition's admins)")
		return
	}
	pl, change, err := req.ToPledge()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	got, err := b.AddPledge(pl, change, s.commitPledge(r.Context(), p.Org))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/pledges/"+got.ID)
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(got.Version)))
	writeJSON(w, http.StatusCreated, api.FromPledge(&got))
}

// advancePledge records a pledge's next stage.
func (s *Server) advancePledge(w http.ResponseWriter, r *http.Request) {
	b := s.book(w, r)
	if b == nil {
		return
	}
	p := principalOf(r)
	id := r.PathValue("id")
	cur, ok := b.Pledge(id)
	if !ok || !seesPledge(p)(&cur) {
		s.writeError(w, r, fmt.Errorf("httpapi: pledge %q: %w", id, truce.ErrNotFound))
		return
	}
	if !canEditPledges(p, cur.Nation) {
		forbidden(w, p, "change pledges of "+string(cur.Nation))
		return
	}
	var req api.StageRequest
	if !s.decodeBody(w, r, maxPledgeBody, "a stage change", &req) {
		return
	}
	version, err := versionOf(r, req.Version)
	if err == nil && version < 1 {
		// The book reads version 0 as "any": not for a client.
		err = invalid("version", fmt.Sprintf("%d is not a pledge version (they count from 1)", version))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Quantity < 0 {
		s.writeError(w, r, invalid("quantity", fmt.Sprintf("must be above 0 when given, not %g", req.Quantity)))
		return
	}
	change, err := req.ToChange("pledge "+id, "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	got, err := b.Advance(id, version, change, truce.Round(req.Quantity, truce.QuantityUnit), s.commitPledge(r.Context(), p.Org))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(got.Version)))
	writeJSON(w, http.StatusOK, api.FromPledge(&got))
}

type requirementsAnswer struct {
	Requirements []api.Requirement `json:"requirements"`
}

func (s *Server) listRequirements(w http.ResponseWriter, r *http.Request) {
	b, p, ok := s.readBook(w, r, "requirements")
	if !ok {
		return
	}
	if _, err := query(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	res := requirementsAnswer{Requirements: []api.Requirement{}}
	for _, q := range b.Requirements(seesRequirement(p)) {
		res.Requirements = append(res.Requirements, api.FromRequirement(&q))
	}
	writeJSON(w, http.StatusOK, res)
}

// secretariatBody checks that the caller may do what (the coalition
// secretariat's admins and planners) and decodes the body into v; on
// failure it answers and returns false.
func (s *Server) secretariatBody(w http.ResponseWriter, r *http.Request, what, body string, v any) (*pledge.Book, truce.Principal, bool) {
	b := s.book(w, r)
	if b == nil {
		return nil, truce.Principal{}, false
	}
	p := principalOf(r)
	if !canEditSecretariat(p) {
		forbidden(w, p, what+" (the coalition secretariat's admins and planners)")
		return nil, p, false
	}
	return b, p, s.decodeBody(w, r, maxPledgeBody, body, v)
}

// putRequirement records a requirement: POST makes a new one, PUT
// replaces one at its version.
func (s *Server) putRequirement(w http.ResponseWriter, r *http.Request) {
	var req api.Requirement
	b, p, ok := s.secretariatBody(w, r, "edit requirements", "a requirement", &req)
	if !ok {
		return
	}
	version := 0
	if id := r.PathValue("id"); id != "" {
		if req.ID != "" && req.ID != id {
			s.writeError(w, r, invalid("id", fmt.Sprintf("%q is not the requirement of the path, %q", req.ID, id)))
			return
		}
		req.ID = id
		// Versions count from 1: a body without one leaves it to If-Match.
		var body *int
		if req.Version != 0 {
			body = &req.Version
		}
		v, err := versionOf(r, body)
		if err == nil && v < 1 {
			err = invalid("version", fmt.Sprintf("%d is not a requirement version (they count from 1; POST makes a new requirement)", v))
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		version = v
	}
	rq, err := req.ToRequirement()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	got, err := b.PutRequirement(rq, version, func(x truce.Requirement) error {
		return s.journalOne(r.Context(), journal.Entry{Kind: journal.KindRequirement, Org: p.Org, Requirement: &x})
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	code := http.StatusOK
	if version == 0 {
		code = http.StatusCreated
		w.Header().Set("Location", "/api/v1/requirements/"+got.ID)
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(got.Version)))
	writeJSON(w, code, api.FromRequirement(&got))
}

func (s *Server) listGaps(w http.ResponseWriter, r *http.Request) {
	b, p, ok := s.readBook(w, r, "gaps")
	if !ok {
		return
	}
	q, err := query(r, "stage", "without", "caveats", "caveats_of")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	gq := pledge.GapQuery{Stage: truce.StageApproved, Keep: seesPledge(p), KeepRequirement: seesRequirement(p)}
	if v := q["stage"]; v != "" {
		st, err := truce.ParsePledgeStage(v)
		if err != nil || st == truce.StageWithdrawn {
			s.writeError(w, r, invalid("stage", fmt.Sprintf("%q is not a stage to count at (proposed, announced, approved, ready, deployed, delivered)", v)))
			return
		}
		gq.Stage = st
	}
	if v := q["without"]; v != "" {
		for _, n := range strings.Split(v, ",") {
			gq.Without = append(gq.Without, truce.NationID(strings.TrimSpace(n)))
		}
	}
	if v := q["caveats_of"]; v != "" {
		for _, n := range strings.Split(v, ",") {
			gq.CaveatsOf = append(gq.CaveatsOf, truce.NationID(strings.TrimSpace(n)))
		}
	}
	switch q["caveats"] {
	case "", "ignore":
	case "hold":
		gq.CaveatsHold = true
	default:
		s.writeError(w, r, invalid("caveats", fmt.Sprintf("%q: want hold or ignore", q["caveats"])))
		return
	}
	writeJSON(w, http.StatusOK, api.FromGaps(b.Gaps(gq)))
}

type activationsAnswer struct {
	Activations []api.Activation `json:"activations"`
}

func (s *Server) listActivations(w http.ResponseWriter, r *http.Request) {
	b := s.book(w, r)
	if b == nil {
		return
	}
	p := principalOf(r)
	if !p.CanSee(activationMarking, "") {
		forbidden(w, p, "read activations (the coalition and its nations)")
		return
	}
	q, err := query(r, "nation", "overdue")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	switch q["overdue"] {
	case "", "true", "false":
	default:
		s.writeError(w, r, invalid("overdue", fmt.Sprintf("%q: want true or false", q["overdue"])))
		return
	}
	now := s.cfg.Now()
	res := activationsAnswer{Activations: []api.Activation{}}
	for _, a := range b.Activations(func(a *truce.Activation) bool {
		return (q["nation"] == "" || string(a.Nation) == q["nation"]) && (q["overdue"] != "true" || a.Overdue(now))
	}) {
		res.Activations = append(res.Activations, api.FromActivation(&a, now))
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) acknowledgeActivation(w http.ResponseWriter, r *http.Request) {
	b := s.book(w, r)
	if b == nil {
		return
	}
	p := principalOf(r)
	if p.Kind != truce.OrgNation || (p.Role != truce.RoleAdmin && p.Role != truce.RolePlanner) {
		forbidden(w, p, "acknowledge activations (a nation's admins and planners, for the nation's own)")
		return
	}
	got, err := b.Acknowledge(r.PathValue("id"), p.Org, s.cfg.Now(), func(a truce.Activation) error {
		c := a.Canonical()
		return s.journalOne(r.Context(), journal.Entry{Kind: journal.KindActivation, Org: p.Org, Activation: &c})
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.FromActivation(&got, s.cfg.Now()))
}

type supportAnswer struct {
	Totals  api.SupportTotals `json:"totals"`
	Records []api.Support     `json:"records"`
}

func (s *Server) listSupport(w http.ResponseWriter, r *http.Request) {
	b, p, ok := s.readBook(w, r, "support")
	if !ok {
		return
	}
	q, err := query(r, "donor", "type")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if v := q["type"]; v != "" {
		if _, err := truce.ParseSupportType(v); err != nil {
			s.writeError(w, r, invalid("type", err.Error()))
			return
		}
	}
	recs := b.Support(func(x *truce.Support) bool {
		return p.CanSee(x.Marking, "") && (q["donor"] == "" || string(x.Donor) == q["donor"]) && (q["type"] == "" || string(x.Type) == q["type"])
	})
	res := supportAnswer{Totals: api.FromSupportTotals(pledge.SumSupport(recs)), Records: make([]api.Support, len(recs))}
	for i := range recs {
		res.Records[i] = api.FromSupport(&recs[i])
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) postSupport(w http.ResponseWriter, r *http.Request) {
	var req api.Support
	b, p, ok := s.secretariatBody(w, r, "record support", "a support record", &req)
	if !ok {
		return
	}
	sup, err := req.ToSupport()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	got, err := b.AddSupport(sup, func(x truce.Support) error {
		return s.journalOne(r.Context(), journal.Entry{Kind: journal.KindSupport, Org: p.Org, Support: &x})
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, api.FromSupport(&got))
}
