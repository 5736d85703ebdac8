package report

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/truce-dev/truce/internal/engine"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// Input is everything a daily report is made from; the caller gathers it
// from the engine and the journal.
type Input struct {
	Agreement *truce.Agreement
	Date      time.Time // the report's day (UTC midnight)
	Cutoff    time.Time // as of (default: Date + 24h)
	// Incidents holds every incident of the last seven days up to Cutoff
	// (for the trend) that the report's reader may see.
	Incidents []engine.Record
	Levels    []truce.LevelChange // escalation timeline
	Sectors   []truce.SectorLevel // levels as of Cutoff
	Windows   []truce.SilenceWindow
	// Checkpoint is the evidence log's signed checkpoint the report was
	// made at (the whole journal when it was made), nil for none.
	Checkpoint *Checkpoint
	// Commitments are the coalition's commitments, nil for no section.
	Commitments *Commitments
}

// Checkpoint names the state of the record a report was made from: the
// evidence log's signed checkpoint (C2SP tlog-checkpoint, signed note), so
// that a reader can check with truce verify that the record it was made
// from still stands.
type Checkpoint struct {
	Origin string `json:"origin"`
	Size   int64  `json:"size"` // journal entries covered
	Root   string `json:"root"` // base64
	Note   string `json:"note"` // the signed checkpoint, whole
}

// TrendDays is how many days the trend covers, the report's day included.
const TrendDays = 7

// Undetermined is how tables name the party of a violation nobody could be
// held responsible for.
const Undetermined = "undetermined"

// Report is a daily report; its exported fields are its JSON form.
type Report struct {
	Agreement AgreementRef `json:"agreement"`
	Date      string       `json:"date"` // YYYY-MM-DD
	Cutoff    time.Time    `json:"cutoff"`
	CutoffDTG string       `json:"cutoff_dtg"`
	// Parties are the agreement's parties, in its order: the columns of
	// the tables.
	Parties      []PartyRef       `json:"parties"`
	Summary      Summary          `json:"summary"`
	Sectors      []SectorTable    `json:"sectors"`
	Levels       []SectorLevel    `json:"levels"`
	Timeline     []LevelChange    `json:"timeline"`
	Withdrawal   []WeaponSighting `json:"withdrawal_violations"`
	Windows      []Window         `json:"windows_of_silence"`
	Restrictions []Restriction    `json:"restrictions"`
	Trend        []TrendDay       `json:"trend"`
	Map          *MapInfo         `json:"map,omitempty"`
	Checkpoint   *Checkpoint      `json:"checkpoint,omitempty"`
	// Commitments is the commitments section, nil when the report has
	// none.
	Commitments *CommitmentsSection `json:"commitments,omitempty"`
	m           *mapData            // the drawing, for HTML; nil when decoded
	sectorNames map[string]string   // for rendering
}

// AgreementRef names the agreement a report is made under.
type AgreementRef struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Version int    `json:"version"`
}

// PartyRef is a party to the agreement.
type PartyRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Count is a number of things of one kind.
type Count struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

// Summary counts the day's incidents and violations.
type Summary struct {
	Incidents  int `json:"incidents"`
	Violations int `json:"violations"`
	// ViolationsByParty counts violations by the party held responsible,
	// every party of the agreement in its order, then Undetermined.
	ViolationsByParty []Count `json:"violations_by_party"`
	// IncidentsByParty counts incidents by attribution, the same way.
	IncidentsByParty []Count `json:"incidents_by_party"`
	// ByLikelihood counts incidents by the estimative term of their
	// confidence, from almost certain to remote (terms with none left out).
	ByLikelihood []Count `json:"by_likelihood"`
	// Confidence is the estimative term for the median incident's
	// confidence; "" when there were none.
	Confidence truce.Likelihood `json:"confidence"`
	Text       string           `json:"text"`
}

// SectorTable is one sector's violations of the day. Sector "" holds those
// outside every sector.
type SectorTable struct {
	Sector     string  `json:"sector"`
	Name       string  `json:"name"`
	Violations int     `json:"violations"`
	ByParty    []Count `json:"by_party"`
	ByRule     []Count `json:"by_rule"`
	ByCategory []Count `json:"by_category"`
	// ByWeapon counts by the incident's weapon class, "unknown" when no
	// report named one.
	ByWeapon []Count `json:"by_weapon"`
}

// SectorLevel is a sector's alert level at the cut-off.
type SectorLevel struct {
	Sector   string      `json:"sector"`
	Name     string      `json:"name"`
	Level    truce.Level `json:"level"`
	Since    time.Time   `json:"since"`
	SinceDTG string      `json:"since_dtg"`
	Scores   []float64   `json:"scores"`
}

// LevelChange is one step of the day's escalation timeline.
type LevelChange struct {
	Sector string      `json:"sector"`
	From   truce.Level `json:"from"`
	To     truce.Level `json:"to"`
	At     time.Time   `json:"at"`
	DTG    string      `json:"dtg"`
	Scores []float64   `json:"scores"`
}

// WeaponSighting is a weapon seen in violation of a withdrawal line.
type WeaponSighting struct {
	Incident string    `json:"incident"`
	Time     time.Time `json:"time"`
	DTG      string    `json:"dtg"`
	Lat      float64   `json:"lat"` // to four decimals
	Lon      float64   `json:"lon"`
	// MGRS is the position as an MGRS grid reference at 1 m.
	MGRS        string            `json:"mgrs"`
	Weapon      truce.WeaponClass `json:"weapon"`
	Count       int               `json:"count"`
	Zone        string            `json:"zone"`
	ZoneName    string            `json:"zone_name"`
	Party       string            `json:"party"` // Undetermined when nobody is held responsible
	Sector      string            `json:"sector"`
	Likelihood  truce.Likelihood  `json:"likelihood"`
	Explanation string            `json:"explanation"`
}

// Window statuses.
const (
	WindowHeld        = "held"
	WindowHolding     = "holding"        // still open at the cut-off, no breach so far
	WindowBroken      = "broken"         // a window_of_silence violation names it
	WindowUnconfirmed = "unacknowledged" // not acknowledged by both parties: not binding
)

// Window is a window of silence and whether it held.
type Window struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	From         time.Time `json:"from"`
	Until        time.Time `json:"until"` // zero: open-ended
	FromDTG      string    `json:"from_dtg"`
	UntilDTG     string    `json:"until_dtg"`
	Acknowledged bool      `json:"acknowledged"`
	Status       string    `json:"status"`
	Held         bool      `json:"held"` // false when broken (and while it cannot yet be said)
	// Breaches are the window_of_silence violations that name the window,
	// by incident id.
	Breaches []string `json:"breaches"`
	// BreachParties counts the breaches by party.
	BreachParties []Count `json:"breach_parties"`
}

// Restriction is a restriction of the monitors' freedom of movement.
type Restriction struct {
	Incident    string    `json:"incident"`
	Time        time.Time `json:"time"`
	DTG         string    `json:"dtg"`
	Lat         float64   `json:"lat"`
	Lon         float64   `json:"lon"`
	Party       string    `json:"party"`
	Sector      string    `json:"sector"`
	Explanation string    `json:"explanation"`
}

// TrendDay counts one day's violations by party (every party in the
// agreement's order, then Undetermined).
type TrendDay struct {
	Date    string  `json:"date"`
	ByParty []Count `json:"by_party"`
	Total   int     `json:"total"`
}

// MapInfo describes the map drawn in HTML.
type MapInfo struct {
	Width  int `json:"width"`
	Height int `json:"height"`
	// MinLat, MinLon, MaxLat and MaxLon bound the area drawn.
	MinLat float64 `json:"min_lat"`
	MinLon float64 `json:"min_lon"`
	MaxLat float64 `json:"max_lat"`
	MaxLon float64 `json:"max_lon"`
	// Incidents is how many incidents the map shows; Dots how many dots
	// draw them (fewer when aggregated).
	Incidents  int  `json:"incidents"`
	Dots       int  `json:"dots"`
	Aggregated bool `json:"aggregated"`
	// Cell is the side of the aggregation cells in pixels (0 when not
	// aggregated).
	Cell int `json:"cell_px"`
	// Outside counts the day's incidents beyond the agreement's bounding
	// box, which the map leaves out.
	Outside int `json:"outside"`
}

// DTG formats t as a NATO date-time group in UTC: DDHHMMZ MON YY.
func DTG(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%02d%02d%02dZ %s %02d", t.Day(), t.Hour(), t.Minute(), strings.ToUpper(t.Format("Jan")), t.Year()%100)
}

// round4 rounds a coordinate to four decimals (about 11 m).
func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

func partyKey(p truce.PartyID) string {
	if p == "" {
		return Undetermined
	}
	return string(p)
}

// Build makes the report of in.Date as of in.Cutoff.
func Build(in Input) (*Report, error) {
	a := in.Agreement
	if a == nil {
		return nil, errors.New("report: no agreement")
	}
	if in.Date.IsZero() {
		return nil, errors.New("report: no date")
	}
	day := in.Date.UTC()
	if day != day.Truncate(24*time.Hour) {
		return nil, fmt.Errorf("report: date %s is not a UTC midnight", in.Date.Format(time.RFC3339))
	}
	cutoff := in.Cutoff.UTC()
	if in.Cutoff.IsZero() {
		cutoff = day.Add(24 * time.Hour)
	}
	if cutoff.Before(day) {
		return nil, fmt.Errorf("report: cut-off %s is before the day %s", cutoff.Format(time.RFC3339), day.Format(time.DateOnly))
	}
	r := &Report{
		Agreement:    AgreementRef{ID: a.ID, Title: a.Title, Version: a.Version},
		Date:         day.Format(time.DateOnly),
		Cutoff:       cutoff,
		CutoffDTG:    DTG(cutoff),
		Sectors:      []SectorTable{},
		Levels:       []SectorLevel{},
		Timeline:     []LevelChange{},
		Withdrawal:   []WeaponSighting{},
		Windows:      []Window{},
		Restrictions: []Restriction{},
		Checkpoint:   in.Checkpoint,
		sectorNames:  map[string]string{"": "outside every sector"},
	}
	partyIdx := map[string]int{}
	for i, p := range a.Parties {
		r.Parties = append(r.Parties, PartyRef{ID: string(p.ID), Name: p.Name})
		partyIdx[string(p.ID)] = i
	}
	nParty := len(a.Parties) + 1 // the last column is Undetermined
	col := func(p truce.PartyID) int {
		if i, ok := partyIdx[string(p)]; ok {
			return i
		}
		return nParty - 1 // undetermined, or a party unknown to the agreement
	}
	partyCounts := func(n []int) []Count {
		cs := make([]Count, nParty)
		for i := range nParty - 1 {
			cs[i] = Count{Key: r.Parties[i].ID, Count: n[i]}
		}
		cs[nParty-1] = Count{Key: Undetermined, Count: n[nParty-1]}
		return cs
	}
	zoneNames := map[string]string{}
	for _, z := range a.Zones {
		zoneNames[z.ID] = cmp.Or(z.Name, z.ID)
	}
	for _, s := range a.Sectors {
		r.sectorNames[s.ID] = cmp.Or(s.Name, s.ID)
	}

	// The day's counts stop at the cut-off, or at the day's end when the
	// cut-off is later.
	dayEnd := day.Add(24 * time.Hour)
	if cutoff.Before(dayEnd) {
		dayEnd = cutoff
	}
	trendStart := day.AddDate(0, 0, -(TrendDays - 1))
	trend := make([][]int, TrendDays)
	for i := range trend {
		trend[i] = make([]int, nParty)
	}
	vByParty := make([]int, nParty)
	iByParty := make([]int, nParty)
	likely := map[truce.Likelihood]int{}
	var confs []float64
	sectors := map[string]*sectorAcc{}
	breaches := map[string][]truce.Violation{}
	var dayIdx []int // indices into in.Incidents of the day's incidents, for the map

	for i := range in.Incidents {
		rec := &in.Incidents[i]
		inc := &rec.Incident
		if inc.Status == truce.StatusDismissed {
			continue
		}
		onDay := !inc.Start.Before(day) && inc.Start.Before(dayEnd)
		if onDay {
			dayIdx = append(dayIdx, i)
			iByParty[col(inc.Party)]++
			likely[truce.LikelihoodOf(inc.Confidence)]++
			confs = append(confs, inc.Confidence)
		}
		for j := range rec.Violations {
			v := &rec.Violations[j]
			if v.Time.Before(trendStart) || !v.Time.Before(dayEnd) {
				continue
			}
			if v.Rule == truce.RuleSilence && v.Zone != "" {
				breaches[v.Zone] = append(breaches[v.Zone], *v)
			}
			trend[int(v.Time.Sub(trendStart)/(24*time.Hour))][col(v.Party)]++
			if v.Time.Before(day) {
				continue
			}
			vByParty[col(v.Party)]++
			s := sectors[v.Sector]
			if s == nil {
				s = &sectorAcc{party: make([]int, nParty), rule: map[string]int{}, cat: map[string]int{}, weapon: map[string]int{}}
				sectors[v.Sector] = s
			}
			s.n++
			s.party[col(v.Party)]++
			s.rule[string(v.Rule)]++
			s.cat[string(inc.Category)]++
			s.weapon[cmp.Or(string(inc.Weapon), "unknown")]++
			switch v.Rule {
			case truce.RuleWithdrawal:
				grid, _ := geo.MGRS(v.Location) // "" beyond UTM's latitudes
				r.Withdrawal = append(r.Withdrawal, WeaponSighting{
					Incident: inc.ID, Time: v.Time.UTC(), DTG: DTG(v.Time),
					Lat: round4(v.Location.Lat), Lon: round4(v.Location.Lon), MGRS: grid,
					Weapon: inc.Weapon, Count: inc.Count, Zone: v.Zone, ZoneName: zoneNames[v.Zone],
					Party: partyKey(v.Party), Sector: v.Sector, Likelihood: truce.LikelihoodOf(inc.Confidence),
					Explanation: v.Explanation,
				})
			case truce.RuleFreedomOfMovement:
				r.Restrictions = append(r.Restrictions, Restriction{
					Incident: inc.ID, Time: v.Time.UTC(), DTG: DTG(v.Time),
					Lat: round4(v.Location.Lat), Lon: round4(v.Location.Lon),
					Party: partyKey(v.Party), Sector: v.Sector, Explanation: v.Explanation,
				})
			}
		}
	}

	// Summary.
	s := &r.Summary
	s.Incidents = len(dayIdx)
	for _, n := range vByParty {
		s.Violations += n
	}
	s.ViolationsByParty = partyCounts(vByParty)
	s.IncidentsByParty = partyCounts(iByParty)
	s.ByLikelihood = []Count{}
	for _, l := range slices.Backward(truce.Likelihoods()) {
		if n := likely[truce.Likelihood(l.Name)]; n > 0 {
			s.ByLikelihood = append(s.ByLikelihood, Count{Key: l.Name, Count: n})
		}
	}
	if len(confs) > 0 {
		slices.Sort(confs)
		s.Confidence = truce.LikelihoodOf(confs[(len(confs)-1)/2])
	}
	s.Text = summaryText(r)

	// Sector tables: the agreement's sectors in its order, then outside.
	for _, sec := range a.Sectors {
		r.Sectors = append(r.Sectors, sectorTable(sec.ID, r.sectorNames[sec.ID], sectors[sec.ID], nParty, partyCounts))
		delete(sectors, sec.ID)
	}
	var rest []string
	for id := range sectors {
		rest = append(rest, id)
	}
	slices.Sort(rest) // "" (outside every sector) first, then sectors the agreement no longer names
	for _, id := range rest {
		name, ok := r.sectorNames[id]
		if !ok {
			name = id
		}
		r.Sectors = append(r.Sectors, sectorTable(id, name, sectors[id], nParty, partyCounts))
	}

	// Levels at the cut-off and the day's timeline.
	for _, l := range in.Sectors {
		r.Levels = append(r.Levels, SectorLevel{Sector: l.Sector, Name: cmp.Or(r.sectorNames[l.Sector], l.Sector), Level: l.Level,
			Since: l.Since.UTC(), SinceDTG: DTG(l.Since), Scores: nonNil(l.Scores)})
	}
	slices.SortFunc(r.Levels, func(x, y SectorLevel) int { return cmp.Compare(x.Sector, y.Sector) })
	for _, c := range in.Levels {
		if c.At.Before(day) || c.At.After(cutoff) {
			continue
		}
		r.Timeline = append(r.Timeline, LevelChange{Sector: c.Sector, From: c.From, To: c.To, At: c.At.UTC(), DTG: DTG(c.At), Scores: nonNil(c.Scores)})
	}
	slices.SortStableFunc(r.Timeline, func(x, y LevelChange) int {
		return cmp.Or(x.At.Compare(y.At), cmp.Compare(x.Sector, y.Sector))
	})

	slices.SortFunc(r.Withdrawal, func(x, y WeaponSighting) int {
		return cmp.Or(x.Time.Compare(y.Time), cmp.Compare(x.Incident, y.Incident), cmp.Compare(x.Zone, y.Zone))
	})
	slices.SortFunc(r.Restrictions, func(x, y Restriction) int {
		return cmp.Or(x.Time.Compare(y.Time), cmp.Compare(x.Incident, y.Incident))
	})

	// Windows of silence that overlap the day.
	for _, w := range in.Windows {
		if !w.Period.Until.IsZero() && !w.Period.Until.After(day) || w.Period.From.After(cutoff) {
			continue
		}
		r.Windows = append(r.Windows, window(w, cutoff, breaches[w.ID], partyCounts, col, nParty))
	}
	slices.SortFunc(r.Windows, func(x, y Window) int {
		return cmp.Or(x.From.Compare(y.From), cmp.Compare(x.ID, y.ID))
	})

	// Trend.
	for i := range TrendDays {
		td := TrendDay{Date: trendStart.AddDate(0, 0, i).Format(time.DateOnly), ByParty: partyCounts(trend[i])}
		for _, n := range trend[i] {
			td.Total += n
		}
		r.Trend = append(r.Trend, td)
	}

	if in.Commitments != nil {
		r.Commitments = commitments(in.Commitments, day, dayEnd, cutoff)
	}

	r.m = drawMap(a, in.Incidents, dayIdx, r.Levels, col)
	r.Map = &r.m.info
	return r, nil
}

func nonNil(s []float64) []float64 {
	if s == nil {
		return []float64{}
	}
	return slices.Clone(s)
}

func sorted(m map[string]int) []Count {
	cs := make([]Count, 0, len(m))
	for k, n := range m {
		cs = append(cs, Count{Key: k, Count: n})
	}
	slices.SortFunc(cs, func(x, y Count) int { return cmp.Compare(x.Key, y.Key) })
	return cs
}

// sectorAcc accumulates one sector's violations.
type sectorAcc struct {
	n                 int
	party             []int
	rule, cat, weapon map[string]int
}

func sectorTable(id, name string, s *sectorAcc, nParty int, partyCounts func([]int) []Count) SectorTable {
	if s == nil {
		s = &sectorAcc{party: make([]int, nParty)}
	}
	return SectorTable{Sector: id, Name: name, Violations: s.n, ByParty: partyCounts(s.party),
		ByRule: sorted(s.rule), ByCategory: sorted(s.cat), ByWeapon: sorted(s.weapon)}
}

func window(w truce.SilenceWindow, cutoff time.Time, vs []truce.Violation, partyCounts func([]int) []Count, col func(truce.PartyID) int, nParty int) Window {
	out := Window{ID: w.ID, Name: cmp.Or(w.Name, w.ID), From: w.Period.From.UTC(), FromDTG: DTG(w.Period.From),
		Acknowledged: w.Acknowledged, Breaches: []string{}}
	if !w.Period.Until.IsZero() {
		out.Until = w.Period.Until.UTC()
		out.UntilDTG = DTG(w.Period.Until)
	}
	n := make([]int, nParty)
	seen := map[string]bool{}
	for _, v := range vs {
		if !seen[v.Incident] {
			seen[v.Incident] = true
			out.Breaches = append(out.Breaches, v.Incident)
			n[col(v.Party)]++
		}
	}
	slices.Sort(out.Breaches)
	out.BreachParties = partyCounts(n)
	switch {
	case len(out.Breaches) > 0:
		out.Status = WindowBroken
	case !w.Acknowledged:
		out.Status = WindowUnconfirmed
	case w.Period.Until.IsZero() || w.Period.Until.After(cutoff):
		out.Status = WindowHolding
	default:
		out.Status, out.Held = WindowHeld, true
	}
	return out
}

func summaryText(r *Report) string {
	s := &r.Summary
	var b strings.Builder
	fmt.Fprintf(&b, "As of %s, the monitors recorded %s and %s of the agreement on %s.",
		r.CutoffDTG, plural(s.Incidents, "incident"), plural(s.Violations, "violation"), r.Date)
	if s.Violations > 0 {
		var parts []string
		for _, c := range s.ViolationsByParty {
			if c.Key == Undetermined {
				parts = append(parts, fmt.Sprintf("%d undetermined", c.Count))
			} else {
				parts = append(parts, fmt.Sprintf("%d attributed to %s", c.Count, c.Key))
			}
		}
		fmt.Fprintf(&b, " Of the violations, %s.", strings.Join(parts, ", "))
	}
	if s.Incidents > 0 {
		var parts []string
		for _, c := range s.ByLikelihood {
			parts = append(parts, fmt.Sprintf("%d %s", c.Count, c.Key))
		}
		fmt.Fprintf(&b, " Confidence that the median incident happened as reported: %s (by incident: %s).", s.Confidence, strings.Join(parts, ", "))
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
