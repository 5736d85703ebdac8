package journal

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	json "github.com/goccy/go-json"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// maxSafe bounds every integer of the encoding: RFC 8785 writes numbers as
// IEEE 754 doubles, which hold integers exactly only below 2^53.
const maxSafe = 1<<53 - 1

// Encode appends the canonical encoding of e to dst. It fails, leaving dst
// as it was, when e cannot be encoded exactly: an unknown kind, a missing
// body, a string that is not UTF-8, a number out of range.
func Encode(dst []byte, e *Entry) ([]byte, error) {
	w := writer{b: dst}
	w.open()
	if missing := e.missingBody(); missing != "" {
		return dst, fmt.Errorf("journal: encode entry %d: %s entry without %s", e.Seq, e.Kind, missing)
	}
	switch {
	case e.Kind == KindActivation:
		w.key("activation")
		w.activation(e.Activation)
	case e.Kind == KindActivity && e.Activity == nil:
		return dst, fmt.Errorf("journal: encode entry %d: activity entry without activity", e.Seq)
	case e.Kind == KindActivity:
		w.key("activity")
		w.activity(e.Activity)
	case e.Kind == KindTrackAlert && e.Alert == nil:
		return dst, fmt.Errorf("journal: encode entry %d: track_alert entry without alert", e.Seq)
	case e.Kind == KindTrackAlert:
		w.key("alert")
		w.alert(e.Alert)
	}
	w.key("kind")
	w.str(string(e.Kind))
	switch e.Kind {
	case KindLevel:
		if e.Level == nil {
			return dst, fmt.Errorf("journal: encode entry %d: sector_level entry without level", e.Seq)
		}
		w.key("level")
		w.level(e.Level)
	case KindTrigger:
		if e.Trigger == nil {
			return dst, fmt.Errorf("journal: encode entry %d: trigger entry without trigger", e.Seq)
		}
	case KindWindow:
	case KindObservation:
		if e.Observation == nil {
			return dst, fmt.Errorf("journal: encode entry %d: observation entry without observation", e.Seq)
		}
		w.key("observation")
		w.observation(e.Observation)
	case KindToken, KindActivity, KindTrackAlert, KindActivation, KindPledge, KindRequirement, KindSupport:
	case KindTracks:
		if len(e.Tracks) == 0 {
			return dst, fmt.Errorf("journal: encode entry %d: tracks entry without positions", e.Seq)
		}
	default:
		return dst, fmt.Errorf("journal: encode entry %d: unknown kind %q", e.Seq, e.Kind)
	}
	w.key("org")
	w.str(string(e.Org))
	switch e.Kind {
	case KindPledge:
		w.key("pledge")
		w.pledge(e.Pledge)
	case KindRequirement:
		w.key("requirement")
		w.requirement(e.Requirement)
	}
	w.key("seq")
	w.int(int64(e.Seq))
	if e.Kind == KindSupport {
		w.key("support")
		w.support(e.Support)
	}
	w.key("time_us")
	w.time(e.Time)
	if e.Kind == KindToken {
		if e.Token == nil {
			return dst, fmt.Errorf("journal: encode entry %d: token entry without token", e.Seq)
		}
		w.key("token")
		w.token(e.Token)
	}
	if e.Kind == KindTracks {
		w.key("tracks")
		w.positions(e.Tracks)
	}
	if e.Kind == KindTrigger {
		w.key("trigger")
		w.trigger(e.Trigger)
	}
	if e.Kind == KindWindow {
		if e.Window == nil {
			return dst, fmt.Errorf("journal: encode entry %d: silence_window entry without window", e.Seq)
		}
		w.key("window")
		w.window(e.Window)
	}
	w.close()
	if w.err != nil {
		return dst, fmt.Errorf("journal: encode entry %d: %w", e.Seq, w.err)
	}
	return w.b, nil
}

type writer struct {
	b     []byte
	first bool
	err   error
}

func (w *writer) open()  { w.b = append(w.b, '{'); w.first = true }
func (w *writer) close() { w.b = append(w.b, '}'); w.first = false }

// key writes an object key; callers write keys in sorted order (a test
// checks the output against an independent RFC 8785 implementation).
func (w *writer) key(k string) {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.str(k)
	w.b = append(w.b, ':')
}

func (w *writer) int(n int64) {
	if n > maxSafe || n < -maxSafe {
		w.fail(fmt.Errorf("integer %d out of range", n))
	}
	w.b = strconv.AppendInt(w.b, n, 10)
}

func (w *writer) units(x, unit float64) { w.int(truce.Units(x, unit)) }

func (w *writer) time(t time.Time) {
	if !t.Round(truce.TimeUnit).Equal(t) {
		w.fail(fmt.Errorf("time %s is not a whole number of microseconds", t.Format(time.RFC3339Nano)))
	}
	w.int(t.UnixMicro())
}

func (w *writer) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// str writes s as RFC 8785 does (as ECMAScript's JSON.stringify): '"' and
// '\' escaped, control characters as \b \t \n \f \r or \u00xx, all else as
// UTF-8.
func (w *writer) str(s string) {
	if !utf8.ValidString(s) {
		w.fail(fmt.Errorf("string %q is not valid UTF-8", s))
	}
	const hexd = "0123456789abcdef"
	w.b = append(w.b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		w.b = append(w.b, s[start:i]...)
		switch c {
		case '"', '\\':
			w.b = append(w.b, '\\', c)
		case '\b':
			w.b = append(w.b, '\\', 'b')
		case '\t':
			w.b = append(w.b, '\\', 't')
		case '\n':
			w.b = append(w.b, '\\', 'n')
		case '\f':
			w.b = append(w.b, '\\', 'f')
		case '\r':
			w.b = append(w.b, '\\', 'r')
		default:
			w.b = append(w.b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&0xf])
		}
		start = i + 1
	}
	w.b = append(w.b, s[start:]...)
	w.b = append(w.b, '"')
}

func (w *writer) point(p geo.Point) {
	w.key("lat_e7")
	w.units(p.Lat, truce.DegreeUnit)
	w.key("lon_e7")
	w.units(p.Lon, truce.DegreeUnit)
}

func (w *writer) observation(o *truce.Observation) {
	w.open()
	w.key("category")
	w.str(string(o.Category))
	w.key("count")
	w.int(int64(o.Count))
	w.key("credibility")
	w.int(int64(o.Credibility))
	if o.HasFireBearing {
		w.key("fire_bearing_mdeg")
		w.units(o.FireBearing, truce.BearingUnit)
	}
	if l := o.Location; l != nil {
		w.key("location")
		w.open()
		w.key("cep_mm")
		w.units(l.CEP, truce.MetreUnit)
		w.point(l.Point)
		w.close()
	}
	w.key("marking")
	w.marking(o.Marking)
	w.key("method")
	w.str(string(o.Method))
	if v := o.Observer; v != nil {
		w.key("observer")
		w.open()
		w.key("bearing_mdeg")
		w.units(v.Bearing, truce.BearingUnit)
		w.key("distance_max_mm")
		w.units(v.DistanceMax, truce.MetreUnit)
		w.key("distance_min_mm")
		w.units(v.DistanceMin, truce.MetreUnit)
		w.point(v.Point)
		w.close()
	}
	if o.Party != "" {
		w.key("party")
		w.str(string(o.Party))
	}
	w.key("reliability")
	w.str(string(rune(o.Reliability)))
	w.key("source")
	w.str(o.Source)
	w.key("source_id")
	w.str(o.SourceID)
	if o.Text != "" {
		w.key("text")
		w.str(o.Text)
	}
	w.key("time_uncertainty_us")
	w.int(o.TimeUncertainty.Microseconds())
	w.key("time_us")
	w.time(o.Time)
	if o.Weapon != "" {
		w.key("weapon")
		w.str(string(o.Weapon))
	}
	w.close()
}

// ScoreUnit is the unit of escalation scores in the journal.
const ScoreUnit = 1e-3

func (w *writer) marking(m truce.Marking) {
	w.open()
	if len(m.RelTo) > 0 {
		w.key("rel_to")
		w.b = append(w.b, '[')
		for i, org := range m.RelTo {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.str(string(org))
		}
		w.b = append(w.b, ']')
	}
	w.key("tlp")
	w.str(string(m.TLP))
	w.close()
}

func (w *writer) level(l *truce.LevelChange) {
	w.open()
	w.key("at_us")
	w.time(l.At)
	w.key("from")
	w.str(string(l.From))
	w.key("scores_e3")
	w.b = append(w.b, '[')
	for i, x := range l.Scores {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.units(x, ScoreUnit)
	}
	w.b = append(w.b, ']')
	w.key("sector")
	w.str(l.Sector)
	w.key("to")
	w.str(string(l.To))
	w.close()
}

func (w *writer) strs(ss []string) {
	w.b = append(w.b, '[')
	for i, x := range ss {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.str(x)
	}
	w.b = append(w.b, ']')
}

func (w *writer) trigger(t *truce.Trigger) {
	w.open()
	w.key("at_us")
	w.time(t.At)
	if len(t.Critical) > 0 {
		w.key("critical")
		w.strs(t.Critical)
	}
	w.key("state")
	if t.Fired {
		w.str("fired")
	} else {
		w.str("cleared")
	}
	w.close()
}

func (w *writer) window(v *truce.SilenceWindow) {
	w.open()
	if len(v.Acks) > 0 {
		// Sorted without repeats: one set has one encoding.
		for i := 1; i < len(v.Acks); i++ {
			if v.Acks[i-1] >= v.Acks[i] {
				w.fail(fmt.Errorf("window %s: acks %q are not sorted without repeats", v.ID, v.Acks))
				break
			}
		}
		w.key("acks")
		w.b = append(w.b, '[')
		for i, p := range v.Acks {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.str(string(p))
		}
		w.b = append(w.b, ']')
	}
	w.key("center")
	w.open()
	w.point(v.Center)
	w.close()
	w.key("from_us")
	w.time(v.Period.From)
	w.key("id")
	w.str(v.ID)
	if v.Name != "" {
		w.key("name")
		w.str(v.Name)
	}
	if v.Purpose != "" {
		w.key("purpose")
		w.str(v.Purpose)
	}
	w.key("radius_mm")
	w.units(v.Radius, truce.MetreUnit)
	if v.RequestedBy != "" {
		w.key("requested_by")
		w.str(string(v.RequestedBy))
	}
	if !v.Requested.IsZero() {
		w.key("requested_us")
		w.time(v.Requested)
	}
	w.key("state")
	w.str(windowState(v))
	if !v.Period.Until.IsZero() {
		w.key("until_us")
		w.time(v.Period.Until)
	}
	w.close()
}

func (w *writer) token(t *truce.Token) {
	w.open()
	w.key("hash")
	w.str(hex.EncodeToString(t.Hash[:]))
	w.key("id")
	w.str(t.ID)
	w.key("kind")
	w.str(string(t.Kind))
	if t.Label != "" {
		w.key("label")
		w.str(t.Label)
	}
	w.key("org")
	w.str(string(t.Org))
	w.key("role")
	w.str(string(t.Role))
	w.close()
}

// The decoding side: plain structs for encoding/json, checked afterwards by
// re-encoding.

type point struct {
	Lat int64 `json:"lat_e7"`
	Lon int64 `json:"lon_e7"`
}

func (p point) geo() geo.Point {
	return geo.Point{Lat: truce.FromUnits(p.Lat, truce.DegreeUnit), Lon: truce.FromUnits(p.Lon, truce.DegreeUnit)}
}

type wireObservation struct {
	Category    string `json:"category"`
	Count       int64  `json:"count"`
	Credibility int64  `json:"credibility"`
	FireBearing *int64 `json:"fire_bearing_mdeg"`
	Location    *struct {
		CEP int64 `json:"cep_mm"`
		point
	} `json:"location"`
	Marking struct {
		RelTo []string `json:"rel_to"`
		TLP   string   `json:"tlp"`
	} `json:"marking"`
	Method   string `json:"method"`
	Observer *struct {
		Bearing int64 `json:"bearing_mdeg"`
		DistMax int64 `json:"distance_max_mm"`
		DistMin int64 `json:"distance_min_mm"`
		point
	} `json:"observer"`
	Party           string `json:"party"`
	Reliability     string `json:"reliability"`
	Source          string `json:"source"`
	SourceID        string `json:"source_id"`
	Text            string `json:"text"`
	TimeUncertainty int64  `json:"time_uncertainty_us"`
	Time            int64  `json:"time_us"`
	Weapon          string `json:"weapon"`
}

type wireToken struct {
	Hash  string `json:"hash"`
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	Label string `json:"label"`
	Org   string `json:"org"`
	Role  string `json:"role"`
}

type wireLevel struct {
	At     int64   `json:"at_us"`
	From   string  `json:"from"`
	Scores []int64 `json:"scores_e3"`
	Sector string  `json:"sector"`
	To     string  `json:"to"`
}

type wireTrigger struct {
	At       int64    `json:"at_us"`
	Critical []string `json:"critical"`
	State    string   `json:"state"`
}

type wireWindow struct {
	Acks        []string `json:"acks"`
	Center      point    `json:"center"`
	From        int64    `json:"from_us"`
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Purpose     string   `json:"purpose"`
	Radius      int64    `json:"radius_mm"`
	RequestedBy string   `json:"requested_by"`
	Requested   *int64   `json:"requested_us"`
	State       string   `json:"state"`
	Until       *int64   `json:"until_us"`
}

type wireEntry struct {
	Activation  *wireActivation  `json:"activation"`
	Pledge      *wirePledge      `json:"pledge"`
	Requirement *wireRequirement `json:"requirement"`
	Support     *wireSupport     `json:"support"`
	Activity    *wireActivity    `json:"activity"`
	Alert       *wireAlert       `json:"alert"`
	Tracks      []wirePosition   `json:"tracks"`
	Kind        string           `json:"kind"`
	Window      *wireWindow      `json:"window"`
	Level       *wireLevel       `json:"level"`
	Trigger     *wireTrigger     `json:"trigger"`
	Observation *wireObservation `json:"observation"`
	Org         string           `json:"org"`
	Seq         int64            `json:"seq"`
	Time        int64            `json:"time_us"`
	Token       *wireToken       `json:"token"`
}

// ErrNotCanonical is returned by Decode for bytes that parse but are not
// the canonical encoding of what they hold.
var ErrNotCanonical = errors.New("journal: entry is not in canonical form")

// Decode parses the canonical encoding of one entry. It does not validate
// the entry's content beyond what the encoding needs: it returns what was
// journaled.
func Decode(b []byte) (Entry, error) {
	var w wireEntry
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&w); err != nil {
		return Entry{}, fmt.Errorf("journal: decode entry: %w", err)
	}
	if w.Seq < 0 {
		return Entry{}, fmt.Errorf("journal: decode entry: negative seq %d", w.Seq)
	}
	e := Entry{
		Seq:  uint64(w.Seq),
		Time: time.UnixMicro(w.Time).UTC(),
		Kind: Kind(w.Kind),
		Org:  truce.OrgID(w.Org),
	}
	if o := w.Observation; o != nil {
		obs := &truce.Observation{
			Source:          o.Source,
			SourceID:        o.SourceID,
			Method:          truce.Method(o.Method),
			Category:        truce.Category(o.Category),
			Weapon:          truce.WeaponClass(o.Weapon),
			Count:           int(o.Count),
			Time:            time.UnixMicro(o.Time).UTC(),
			TimeUncertainty: time.Duration(o.TimeUncertainty) * time.Microsecond,
			Credibility:     truce.Credibility(o.Credibility),
			Party:           truce.PartyID(o.Party),
			Text:            o.Text,
			Marking:         truce.Marking{TLP: truce.TLP(o.Marking.TLP)},
		}
		if len(o.Reliability) == 1 {
			obs.Reliability = truce.Reliability(o.Reliability[0])
		}
		for _, r := range o.Marking.RelTo {
			obs.Marking.RelTo = append(obs.Marking.RelTo, truce.OrgID(r))
		}
		if l := o.Location; l != nil {
			obs.Location = &truce.Location{Point: l.geo(), CEP: truce.FromUnits(l.CEP, truce.MetreUnit)}
		}
		if v := o.Observer; v != nil {
			obs.Observer = &truce.Observer{
				Point:       v.geo(),
				Bearing:     truce.FromUnits(v.Bearing, truce.BearingUnit),
				DistanceMin: truce.FromUnits(v.DistMin, truce.MetreUnit),
				DistanceMax: truce.FromUnits(v.DistMax, truce.MetreUnit),
			}
		}
		if o.FireBearing != nil {
			obs.FireBearing, obs.HasFireBearing = truce.FromUnits(*o.FireBearing, truce.BearingUnit), true
		}
		e.Observation = obs
	}
	if t := w.Token; t != nil {
		tok := &truce.Token{
			ID:      t.ID,
			Org:     truce.OrgID(t.Org),
			Kind:    truce.OrgKind(t.Kind),
			Role:    truce.Role(t.Role),
			Label:   t.Label,
			Created: e.Time,
		}
		if len(t.Hash) != 2*len(tok.Hash) {
			return Entry{}, fmt.Errorf("journal: decode entry %d: token hash %q is not 64 hex digits", e.Seq, t.Hash)
		}
		if n, err := hex.Decode(tok.Hash[:], []byte(t.Hash)); err != nil || n != len(tok.Hash) {
			return Entry{}, fmt.Errorf("journal: decode entry %d: token hash %q is not 64 hex digits", e.Seq, t.Hash)
		}
		e.Token = tok
	}
	if l := w.Level; l != nil {
		lc := &truce.LevelChange{Sector: l.Sector, From: truce.Level(l.From), To: truce.Level(l.To), At: time.UnixMicro(l.At).UTC()}
		for _, n := range l.Scores {
			lc.Scores = append(lc.Scores, truce.FromUnits(n, ScoreUnit))
		}
		e.Level = lc
	}
	if t := w.Trigger; t != nil {
		e.Trigger = &truce.Trigger{Fired: t.State == "fired", At: time.UnixMicro(t.At).UTC(), Critical: t.Critical}
		if t.State != "fired" && t.State != "cleared" {
			return Entry{}, fmt.Errorf("journal: decode entry %d: trigger state %q is neither fired nor cleared", e.Seq, t.State)
		}
	}
	if v := w.Window; v != nil {
		sw := &truce.SilenceWindow{ID: v.ID, Name: v.Name, Purpose: v.Purpose, Center: v.Center.geo(), Radius: truce.FromUnits(v.Radius, truce.MetreUnit),
			Period: truce.TimeRange{From: time.UnixMicro(v.From).UTC()}, RequestedBy: truce.OrgID(v.RequestedBy), Acknowledged: v.State == "acknowledged"}
		if v.Until != nil {
			sw.Period.Until = time.UnixMicro(*v.Until).UTC()
		}
		if v.Requested != nil {
			sw.Requested = time.UnixMicro(*v.Requested).UTC()
		}
		for _, p := range v.Acks {
			sw.Acks = append(sw.Acks, truce.PartyID(p))
		}
		if v.State != "acknowledged" && v.State != "requested" {
			return Entry{}, fmt.Errorf("journal: decode entry %d: window state %q is neither requested nor acknowledged", e.Seq, v.State)
		}
		e.Window = sw
	}
	if w.Activity != nil {
		e.Activity = w.Activity.activity()
	}
	if w.Activation != nil {
		e.Activation = w.Activation.activation()
	}
	if w.Pledge != nil {
		e.Pledge = w.Pledge.pledge()
	}
	if w.Requirement != nil {
		e.Requirement = w.Requirement.requirement()
	}
	if w.Support != nil {
		e.Support = w.Support.support()
	}
	if w.Alert != nil {
		e.Alert = w.Alert.alert()
	}
	if w.Tracks != nil {
		e.Tracks = decodePositions(w.Tracks)
	}
	again, err := Encode(nil, &e)
	if err != nil {
		return Entry{}, fmt.Errorf("journal: decode entry %d: %w", e.Seq, err)
	}
	if !bytes.Equal(again, b) {
		return Entry{}, fmt.Errorf("%w (entry %d)", ErrNotCanonical, e.Seq)
	}
	return e, nil
}
