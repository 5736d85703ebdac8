package cot

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Unknown is the value CoT uses for an unknown HAE, CE or LE ("9999999.0").
// Parsed values are kept as sent; use IsUnknown to test them.
const Unknown = 9999999.0

// DefaultMaxMessage is the largest message, in bytes, that ParseXML, a Reader
// and a Server accept unless configured otherwise.
const DefaultMaxMessage = 64 << 10

// MaxDepth is the deepest element nesting ParseXML accepts (the <event>
// element is depth 1).
const MaxDepth = 32

// Sentinel errors wrapped by every error this package returns for bad input.
var (
	// ErrTooLarge reports a message over the size limit.
	ErrTooLarge = errors.New("message too large")
	// ErrDTD reports a DOCTYPE, ENTITY or other markup declaration.
	ErrDTD = errors.New("markup declarations (DOCTYPE/ENTITY) are not allowed")
	// ErrTooDeep reports element nesting deeper than MaxDepth.
	ErrTooDeep = errors.New("elements nested too deep")
	// ErrSyntax reports input that is not well-formed XML or protobuf.
	ErrSyntax = errors.New("malformed")
	// ErrMissing reports a required field that is absent or empty.
	ErrMissing = errors.New("missing")
	// ErrRange reports a value that does not parse or is out of range.
	ErrRange = errors.New("out of range")
	// ErrFraming reports a stream or datagram that cannot be split into
	// messages (wrong magic byte, length overflow, unframeable garbage).
	ErrFraming = errors.New("bad framing")
)

// FieldError describes an invalid or missing field of an event.
type FieldError struct {
	UID   string // event uid, if known
	Field string // for example "point lat" or "stale"
	Value string // offending value; empty when missing
	Err   error  // ErrMissing or ErrRange
}

// Error formats the error as `cot: event "UID": field "value": reason`.
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("cot: event ")
	if e.UID != "" {
		fmt.Fprintf(&b, "%q: ", e.UID)
	}
	b.WriteString(e.Field)
	if e.Value != "" {
		fmt.Fprintf(&b, " %q", truncate(e.Value, 64))
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying sentinel.
func (e *FieldError) Unwrap() error { return e.Err }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Point is a CoT <point>: WGS-84 latitude and longitude in degrees, height
// above ellipsoid in metres, and circular and linear error in metres. HAE, CE
// and LE hold Unknown when the sender did not know them.
type Point struct {
	Lat, Lon float64
	HAE      float64
	CE, LE   float64
}

// IsUnknown reports whether v is CoT's "unknown" marker for HAE, CE or LE:
// 9999999.0 as ATAK sends it, or anything from 999999 up (the value TAK
// server documentation uses), or NaN.
func IsUnknown(v float64) bool { return math.IsNaN(v) || v >= 999999 }

// Group is the <__group> detail: a team colour and a role.
type Group struct {
	Name string // team, for example "Cyan"
	Role string // for example "Team Member", "HQ"
}

// Takv is the <takv> detail identifying the sending software.
type Takv struct {
	Device, Platform, OS, Version string
}

// PrecisionLocation is the <precisionlocation> detail naming the sources of
// the position and altitude (for example "GPS", "USER", "DTED2").
type PrecisionLocation struct {
	GeoPointSrc, AltSrc string
}

// Ellipse is the <shape><ellipse> detail of circles and ellipses: semi-axes
// in metres and rotation in degrees.
type Ellipse struct {
	Major, Minor, Angle float64
}

// Link is a <link> detail. Shapes list their vertices as links carrying only
// Point (the `point="lat,lon[,hae]"` form); other links relate the event to
// another one by UID, Type and Relation (for example "p-p", parent producer).
type Link struct {
	UID, Type, Relation string
	Point               *Point // nil unless the link has a point attribute

	verbatim bool // kept in Event.Detail because it has unmodelled content
}

// Event is one CoT event.
//
// Typed fields are read from the well-known detail elements. An element whose
// content is fully represented by typed fields is removed from Detail; an
// element that also carries content this package does not model (for example
// <contact phone=...> or a <link> with production_time) is kept verbatim in
// Detail, its values are still copied to the typed fields for reading, and
// on encoding the verbatim copy wins. Detail holds every other child of
// <detail> as XML, so nothing a client sent is lost when an event is
// forwarded.
type Event struct {
	Version string // "2.0"
	UID     string
	Type    string // for example "a-f-G-U-C"
	How     string // for example "h-e", "m-g"
	Access  string // optional
	QoS     string // optional
	Opex    string // optional

	Time  time.Time // when the event was generated
	Start time.Time // when it becomes valid
	Stale time.Time // when it stops being valid

	Point Point

	Callsign string             // detail/contact@callsign
	Endpoint string             // detail/contact@endpoint
	Group    *Group             // detail/__group
	Takv     *Takv              // detail/takv
	Location *PrecisionLocation // detail/precisionlocation
	Battery  int                // detail/status@battery; 0 when absent
	Course   float64            // detail/track@course, degrees; NaN when absent
	Speed    float64            // detail/track@speed, m/s; NaN when absent
	Remarks  string             // detail/remarks text
	Links    []Link             // detail/link, in order
	Ellipse  *Ellipse           // detail/shape/ellipse

	// Detail is the XML of every other child of <detail>, concatenated.
	Detail []byte

	verbatim kinds // well-known elements kept verbatim in Detail
}

// kinds is a set of well-known detail elements.
type kinds uint16

const (
	kContact kinds = 1 << iota
	kGroup
	kLocation
	kStatus
	kTakv
	kTrack
	kRemarks
	kShape
)

// IsFriendly reports whether the event is a friendly atom ("a-f-...").
func (e Event) IsFriendly() bool { return strings.HasPrefix(e.Type, "a-f-") || e.Type == "a-f" }

// IsAtom reports whether the event describes a thing ("a-..."), as opposed
// to a bit of data such as a drawing ("u-...") or a marker ("b-...").
func (e Event) IsAtom() bool { return strings.HasPrefix(e.Type, "a-") }

// Affiliation returns the affiliation letter of an atom: "f" friend, "h"
// hostile, "n" neutral, "u" unknown, "a" assumed friend, "s" suspect, "p"
// pending, "j" joker, "k" faker, "o" none. It returns "" for non-atoms.
func (e Event) Affiliation() string {
	if !e.IsAtom() || len(e.Type) < 3 {
		return ""
	}
	a, _, _ := strings.Cut(e.Type[2:], "-")
	return a
}

// IsStale reports whether the event is stale at now.
func (e Event) IsStale(now time.Time) bool { return !now.Before(e.Stale) }

// HasTrack reports whether the event carries a course or a speed.
func (e Event) HasTrack() bool { return !math.IsNaN(e.Course) || !math.IsNaN(e.Speed) }

// newEvent returns an Event with the "absent" markers set.
func newEvent() Event {
	return Event{Course: math.NaN(), Speed: math.NaN(),
		Point: Point{HAE: Unknown, CE: Unknown, LE: Unknown}}
}

// validate checks the fields both encodings require.
func validate(e *Event) error {
	fe := func(field, value string, err error) error {
		return &FieldError{UID: e.UID, Field: field, Value: value, Err: err}
	}
	switch {
	case e.UID == "":
		return fe("uid", "", ErrMissing)
	case e.Type == "":
		return fe("type", "", ErrMissing)
	case e.Time.IsZero():
		return fe("time", "", ErrMissing)
	case e.Start.IsZero():
		return fe("start", "", ErrMissing)
	case e.Stale.IsZero():
		return fe("stale", "", ErrMissing)
	case !(e.Point.Lat >= -90 && e.Point.Lat <= 90):
		return fe("point lat", formatFloat(e.Point.Lat), ErrRange)
	case !(e.Point.Lon >= -180 && e.Point.Lon <= 180):
		return fe("point lon", formatFloat(e.Point.Lon), ErrRange)
	}
	return nil
}
