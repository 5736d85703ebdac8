package ingest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// Limits of the wire fields (docs/ingest.md).
const (
	MaxIDBytes         = 128                // source, source_id
	MaxTextBytes       = 4096               // text
	MaxCount           = 100000             // count
	MaxTimeUncertainty = 7 * 24 * time.Hour // time_uncertainty_s
	MaxDistance        = 100000.0           // cep_m, distance_m, metres
	MaxRelTo           = api.MaxRelTo       // marking.rel_to entries
	MaxFuture          = 5 * time.Minute    // how far after Options.Now a time may be
	DefaultRecordBytes = 1 << 20            // Options.MaxRecordBytes when 0
)

// Earliest is the earliest time an observation may have.
var Earliest = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

// Options are the limits a Decoder and Validate apply.
type Options struct {
	// Now is the present: records whose time is more than 5 minutes after
	// Now are rejected. When Now is zero, times are not checked against it.
	Now time.Time
	// Parties, when non-nil, are the only ids a record's party may name.
	Parties []truce.PartyID
	// MaxRecordBytes limits the size of one record (a line, an array
	// element, a feature, a CSV row); 0 means 1 MiB.
	MaxRecordBytes int
}

func (o *Options) maxRecord() int {
	if o.MaxRecordBytes <= 0 {
		return DefaultRecordBytes
	}
	return o.MaxRecordBytes
}

// Rejection is one record that was not accepted.
type Rejection struct {
	Index int // 0-based position among the records of the input
	Line  int // 1-based line where the record starts
	// Field is the wire field name ("lat", "observer.lat", "distance_m",
	// "marking.tlp"), "" when the record as a whole is bad.
	Field string
	// Reason says what is wrong: lower case, no trailing period.
	Reason string
}

// Error returns the rejection as "record 3 (line 4): lat: 91 is outside [-90, 90]".
func (r *Rejection) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "record %d (line %d): ", r.Index, r.Line)
	if r.Field != "" {
		b.WriteString(r.Field)
		b.WriteString(": ")
	}
	b.WriteString(r.Reason)
	return b.String()
}

func reject(field, format string, args ...any) *Rejection {
	return &Rejection{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// num formats a number the way a person wrote it.
func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// Validate converts one wire record into an observation, canonical
// (rounded to the held precision) and with its defaults filled in: marking
// AMBER, reliability F, credibility 6, count 1. Ranges are checked on the
// values as held, so a valid observation stays valid through its wire form.
// The Rejection names the first bad field; its Index and Line are 0.
func Validate(w *api.Observation, opts Options) (truce.Observation, *Rejection) {
	var o truce.Observation
	if r := checkID("source", w.Source); r != nil {
		return o, r
	}
	if r := checkID("source_id", w.SourceID); r != nil {
		return o, r
	}
	o.Source, o.SourceID = w.Source, w.SourceID

	var err error
	if w.Method == "" {
		return o, reject("method", "required (%s)", oneOf(truce.Methods()))
	}
	if o.Method, err = truce.ParseMethod(w.Method); err != nil {
		return o, reject("method", "%s", err)
	}
	if w.Category == "" {
		return o, reject("category", "required (%s)", oneOf(truce.Categories()))
	}
	if o.Category, err = truce.ParseCategory(w.Category); err != nil {
		return o, reject("category", "%s", err)
	}
	if w.Weapon != "" {
		if o.Weapon, err = truce.ParseWeaponClass(w.Weapon); err != nil {
			return o, reject("weapon", "%s", err)
		}
	}
	o.Count = 1
	if w.Count != nil {
		if c := *w.Count; c < 1 || c > MaxCount {
			return o, reject("count", "%d is outside [1, %d]", c, MaxCount)
		}
		o.Count = *w.Count
	}

	var r *Rejection
	if o.Time, r = checkTime(w.Time, opts.Now); r != nil {
		return o, r
	}
	if s := w.TimeUncertaintyS; s != nil {
		max := MaxTimeUncertainty.Seconds()
		if r := notFinite("time_uncertainty_s", *s); r != nil {
			return o, r
		}
		if *s < 0 || *s > max {
			return o, reject("time_uncertainty_s", "%s is outside [0, %s] seconds (7 days)", num(*s), num(max))
		}
		o.TimeUncertainty = time.Duration(math.Round(*s*1e6)) * time.Microsecond
	}

	if o.Location, o.Observer, r = checkPlace(w); r != nil {
		return o, r
	}
	if w.FireBearingDeg != nil {
		if o.FireBearing, r = checkBearing("fire_bearing_deg", *w.FireBearingDeg); r != nil {
			return o, r
		}
		o.HasFireBearing = true
	}

	o.Reliability = 'F'
	if w.Reliability != "" {
		if len(w.Reliability) != 1 || !truce.Reliability(w.Reliability[0]).Valid() {
			return o, reject("reliability", "%q is not a source reliability (want one of A, B, C, D, E, F)", w.Reliability)
		}
		o.Reliability = truce.Reliability(w.Reliability[0])
	}
	o.Credibility = 6
	if c := w.Credibility; c != nil {
		if *c < 1 || *c > 6 {
			return o, reject("credibility", "%d is not an information credibility (want 1 to 6)", *c)
		}
		o.Credibility = truce.Credibility(*c)
	}
	if w.Party != "" {
		if !truce.ValidOrgID(w.Party) {
			return o, reject("party", "%q is not a party id (1 to 64 letters, digits, '-', '_' or '.')", w.Party)
		}
		o.Party = truce.PartyID(w.Party)
		if opts.Parties != nil && !slices.Contains(opts.Parties, o.Party) {
			return o, reject("party", "%q is not a party to the agreement (want one of %s)", w.Party, partyList(opts.Parties))
		}
	}
	if len(w.Text) > MaxTextBytes {
		return o, reject("text", "is %d bytes long, more than %d", len(w.Text), MaxTextBytes)
	}
	if !utf8.ValidString(w.Text) {
		return o, reject("text", "is not valid UTF-8")
	}
	o.Text = w.Text
	if o.Marking, r = checkMarking(w.Marking); r != nil {
		return o, r
	}
	return o.Canonical(), nil
}

func checkID(field, s string) *Rejection {
	switch {
	case s == "":
		return reject(field, "required")
	case len(s) > MaxIDBytes:
		return reject(field, "is %d bytes long, more than %d", len(s), MaxIDBytes)
	case !utf8.ValidString(s):
		return reject(field, "is not valid UTF-8")
	}
	for _, c := range s {
		if unicode.IsControl(c) {
			return reject(field, "contains the control character %U", c)
		}
	}
	return nil
}

func oneOf(terms []truce.Term) string {
	names := make([]string, len(terms))
	for i, t := range terms {
		names[i] = t.Name
	}
	return "one of " + strings.Join(names, ", ")
}

func partyList(ps []truce.PartyID) string {
	if len(ps) == 0 {
		return "none: the agreement names no parties"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// checkTime parses an RFC 3339 time and checks it, as held (UTC,
// microseconds), against [Earliest, now+MaxFuture].
func checkTime(s string, now time.Time) (time.Time, *Rejection) {
	if s == "" {
		return time.Time{}, reject("time", "required (RFC 3339, such as 2026-11-25T20:30:00Z)")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, reject("time", "%q is not an RFC 3339 time (such as 2026-11-25T20:30:00Z)", s)
	}
	t = t.UTC().Round(truce.TimeUnit)
	if t.Before(Earliest) {
		return t, reject("time", "%s is before %s", s, Earliest.Format(time.RFC3339))
	}
	if !now.IsZero() {
		if ahead := t.Sub(now); ahead > MaxFuture {
			if r := ahead.Round(time.Second); r > MaxFuture {
				ahead = r
			}
			return t, reject("time", "%s is %s in the future (at most 5m allowed)", s, ahead)
		}
	}
	return t, nil
}

// units returns x in whole units and whether it lies in [lo, hi] units.
// Ranges are checked in units, on the value as held, so that rounding never
// takes a valid value out of its range.
func units(x, unit float64, lo, hi int64) (int64, bool) {
	if !finite(x) || math.Abs(x) > 1e12 {
		return 0, false
	}
	u := truce.Units(x, unit)
	return u, u >= lo && u <= hi
}

// notFinite rejects NaN and infinities, which JSON cannot carry but CSV can.
func notFinite(field string, x float64) *Rejection {
	if finite(x) {
		return nil
	}
	return reject(field, "want a finite number, got %s", num(x))
}

func checkLat(field string, x *float64) *Rejection {
	if x == nil {
		return nil
	}
	if r := notFinite(field, *x); r != nil {
		return r
	}
	if _, ok := units(*x, truce.DegreeUnit, -900_000_000, 900_000_000); !ok {
		return reject(field, "%s is outside [-90, 90]", num(*x))
	}
	return nil
}

func checkLon(field string, x *float64) *Rejection {
	if x == nil {
		return nil
	}
	if r := notFinite(field, *x); r != nil {
		return r
	}
	if _, ok := units(*x, truce.DegreeUnit, -1_800_000_000, 1_800_000_000); !ok {
		return reject(field, "%s is outside [-180, 180]", num(*x))
	}
	return nil
}

// checkBearing checks a bearing in [0, 360) degrees; one that rounds up to
// 360 is held as 0.
func checkBearing(field string, x float64) (float64, *Rejection) {
	if r := notFinite(field, x); r != nil {
		return 0, r
	}
	if x < 0 || x >= 360 {
		return 0, reject(field, "%s is outside [0, 360)", num(x))
	}
	if truce.Units(x, truce.BearingUnit) == 360_000 {
		return 0, nil
	}
	return x, nil
}

const maxDistanceUnits = int64(MaxDistance / truce.MetreUnit)

// checkPlace checks that exactly one of a location and an observer bearing
// is given, and checks that one.
func checkPlace(w *api.Observation) (*truce.Location, *truce.Observer, *Rejection) {
	hasLoc := w.Lat != nil || w.Lon != nil || w.CEPM != nil
	hasObs := w.Observer != nil || w.BearingDeg != nil || w.DistanceM != nil
	switch {
	case !hasLoc && !hasObs:
		return nil, nil, reject("", "has no location: give lat, lon and cep_m, or observer, bearing_deg and distance_m")
	case hasLoc && hasObs:
		given := func(names []string, set ...bool) string {
			var s []string
			for i, ok := range set {
				if ok {
					s = append(s, names[i])
				}
			}
			return strings.Join(s, ", ")
		}
		return nil, nil, reject("", "has both a location (%s) and an observer bearing (%s): give lat, lon and cep_m, or observer, bearing_deg and distance_m, not both",
			given([]string{"lat", "lon", "cep_m"}, w.Lat != nil, w.Lon != nil, w.CEPM != nil),
			given([]string{"observer", "bearing_deg", "distance_m"}, w.Observer != nil, w.BearingDeg != nil, w.DistanceM != nil))
	case hasLoc:
		l, r := checkLocation(w)
		return l, nil, r
	}
	v, r := checkObserver(w)
	return nil, v, r
}

func checkLocation(w *api.Observation) (*truce.Location, *Rejection) {
	const form = "a location is lat, lon and cep_m"
	switch {
	case w.Lat == nil:
		return nil, reject("lat", "required (%s)", form)
	case w.Lon == nil:
		return nil, reject("lon", "required (%s)", form)
	case w.CEPM == nil:
		return nil, reject("cep_m", "required (%s)", form)
	}
	if r := checkLat("lat", w.Lat); r != nil {
		return nil, r
	}
	if r := checkLon("lon", w.Lon); r != nil {
		return nil, r
	}
	if r := notFinite("cep_m", *w.CEPM); r != nil {
		return nil, r
	}
	if _, ok := units(*w.CEPM, truce.MetreUnit, 1, maxDistanceUnits); !ok {
		if x := *w.CEPM; x > 0 && x < truce.MetreUnit {
			return nil, reject("cep_m", "%s is 0 at the held precision of 1 mm (want more than 0)", num(x))
		}
		return nil, reject("cep_m", "%s is outside (0, %s] metres", num(*w.CEPM), num(MaxDistance))
	}
	return &truce.Location{Point: geo.Pt(*w.Lat, *w.Lon), CEP: *w.CEPM}, nil
}

func checkObserver(w *api.Observation) (*truce.Observer, *Rejection) {
	const form = "an observer bearing is observer, bearing_deg and distance_m"
	switch {
	case w.Observer == nil:
		return nil, reject("observer", "required (%s)", form)
	case w.Observer.Lat == nil:
		return nil, reject("observer.lat", "required")
	case w.Observer.Lon == nil:
		return nil, reject("observer.lon", "required")
	case w.BearingDeg == nil:
		return nil, reject("bearing_deg", "required (%s)", form)
	case w.DistanceM == nil:
		return nil, reject("distance_m", "required (%s)", form)
	}
	if r := checkLat("observer.lat", w.Observer.Lat); r != nil {
		return nil, r
	}
	if r := checkLon("observer.lon", w.Observer.Lon); r != nil {
		return nil, r
	}
	b, r := checkBearing("bearing_deg", *w.BearingDeg)
	if r != nil {
		return nil, r
	}
	d := w.DistanceM
	if len(d) != 2 {
		return nil, reject("distance_m", "want [min, max], got %d numbers", len(d))
	}
	for _, x := range d {
		if r := notFinite("distance_m", x); r != nil {
			return nil, r
		}
	}
	lo, ok := units(d[0], truce.MetreUnit, 0, maxDistanceUnits)
	if !ok {
		return nil, reject("distance_m", "min %s is outside [0, %s] metres", num(d[0]), num(MaxDistance))
	}
	hi, ok := units(d[1], truce.MetreUnit, 0, maxDistanceUnits)
	if !ok {
		return nil, reject("distance_m", "max %s is outside [0, %s] metres", num(d[1]), num(MaxDistance))
	}
	if lo > hi {
		return nil, reject("distance_m", "min %s is more than max %s", num(d[0]), num(d[1]))
	}
	return &truce.Observer{
		Point:       geo.Pt(*w.Observer.Lat, *w.Observer.Lon),
		Bearing:     b,
		DistanceMin: d[0],
		DistanceMax: d[1],
	}, nil
}

func checkMarking(m *api.Marking) (truce.Marking, *Rejection) {
	if m == nil {
		return truce.Marking{TLP: truce.TLPAmber}, nil
	}
	mk, err := m.ToMarking("marking")
	var ve *truce.ValidationError
	if errors.As(err, &ve) {
		return mk, reject(ve.Field, "%s", ve.Reason)
	}
	return mk, nil
}
