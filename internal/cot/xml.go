package cot

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseXML decodes one CoT XML document of at most DefaultMaxMessage bytes.
// It refuses DOCTYPE and ENTITY declarations, nesting deeper than MaxDepth,
// and events missing uid, type, time, start, stale or a valid point.
func ParseXML(data []byte) (Event, error) { return parseXML(data, DefaultMaxMessage) }

func parseXML(data []byte, max int) (Event, error) {
	if max > 0 && len(data) > max {
		return Event{}, fmt.Errorf("cot: parse xml: %d bytes: %w", len(data), ErrTooLarge)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if err := checkDeclarations(data); err != nil {
		return Event{}, fmt.Errorf("cot: parse xml: %w", err)
	}
	p := xmlParser{data: data, d: xml.NewDecoder(bytes.NewReader(data))}
	p.d.Strict = true
	ev, err := p.event()
	if err != nil {
		return Event{}, err
	}
	if err := validate(&ev); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// checkDeclarations refuses any "<!" construct other than a comment or a
// CDATA section, before the tokenizer sees it.
func checkDeclarations(data []byte) error {
	for rest := data; ; {
		i := bytes.Index(rest, []byte("<!"))
		if i < 0 {
			return nil
		}
		rest = rest[i+2:]
		if bytes.HasPrefix(rest, []byte("--")) || bytes.HasPrefix(rest, []byte("[CDATA[")) {
			continue
		}
		return ErrDTD
	}
}

type xmlParser struct {
	data  []byte
	d     *xml.Decoder
	depth int
	uid   string
	seen  kinds // well-known detail elements encountered
}

var kindOf = map[string]kinds{
	"contact": kContact, "__group": kGroup, "precisionlocation": kLocation, "status": kStatus,
	"takv": kTakv, "track": kTrack, "remarks": kRemarks, "shape": kShape,
}

// token returns the next token, enforcing the depth limit and refusing
// directives. The offset before the token is returned too.
func (p *xmlParser) token() (xml.Token, int64, error) {
	off := p.d.InputOffset()
	tok, err := p.d.Token()
	if err != nil {
		if err == io.EOF {
			return nil, off, err
		}
		return nil, off, p.errf("%w: %v", ErrSyntax, err)
	}
	switch t := tok.(type) {
	case xml.StartElement:
		p.depth++
		if p.depth > MaxDepth {
			return nil, off, p.errf("%w (limit %d)", ErrTooDeep, MaxDepth)
		}
	case xml.EndElement:
		p.depth--
	case xml.Directive:
		return nil, off, p.errf("%w", ErrDTD)
	case xml.ProcInst:
		if t.Target != "xml" || p.depth > 0 {
			return nil, off, p.errf("%w: processing instruction <?%s", ErrSyntax, t.Target)
		}
	}
	return tok, off, nil
}

func (p *xmlParser) errf(format string, args ...any) error {
	if p.uid != "" {
		return fmt.Errorf("cot: event %q: "+format, append([]any{p.uid}, args...)...)
	}
	return fmt.Errorf("cot: parse xml: "+format, args...)
}

func (p *xmlParser) event() (Event, error) {
	ev := newEvent()
	// Find the root element.
	var root xml.StartElement
	for {
		tok, _, err := p.token()
		if err == io.EOF {
			return Event{}, p.errf("%w: no <event> element", ErrSyntax)
		}
		if err != nil {
			return Event{}, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			root = se
			break
		}
		if cd, ok := tok.(xml.CharData); ok && len(bytes.TrimSpace(cd)) > 0 {
			return Event{}, p.errf("%w: text before <event>", ErrSyntax)
		}
	}
	if root.Name.Local != "event" {
		return Event{}, p.errf("%w: root element <%s>, want <event>", ErrSyntax, root.Name.Local)
	}
	times := map[string]*time.Time{"time": &ev.Time, "start": &ev.Start, "stale": &ev.Stale}
	for _, a := range root.Attr {
		if a.Name.Local == "uid" {
			ev.UID = a.Value
			p.uid = a.Value
		}
	}
	for _, a := range root.Attr {
		switch a.Name.Local {
		case "version":
			ev.Version = a.Value
		case "type":
			ev.Type = a.Value
		case "how":
			ev.How = a.Value
		case "access":
			ev.Access = a.Value
		case "qos":
			ev.QoS = a.Value
		case "opex":
			ev.Opex = a.Value
		case "time", "start", "stale":
			t, err := parseTime(a.Value)
			if err != nil {
				return Event{}, &FieldError{UID: ev.UID, Field: a.Name.Local, Value: a.Value, Err: ErrRange}
			}
			*times[a.Name.Local] = t
		}
	}
	sawPoint := false
	for {
		tok, _, err := p.token()
		if err == io.EOF {
			return Event{}, p.errf("%w: unexpected end of document", ErrSyntax)
		}
		if err != nil {
			return Event{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "point":
				if err := p.point(&ev, t); err != nil {
					return Event{}, err
				}
				sawPoint = true
			case "detail":
				if err := p.detail(&ev); err != nil {
					return Event{}, err
				}
			default:
				if err := p.skip(); err != nil {
					return Event{}, err
				}
			}
		case xml.EndElement:
			if !sawPoint {
				return Event{}, &FieldError{UID: ev.UID, Field: "point", Err: ErrMissing}
			}
			return ev, p.trailer()
		}
	}
}

// trailer accepts only whitespace and comments after the root element.
func (p *xmlParser) trailer() error {
	for {
		tok, _, err := p.token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				continue
			}
		case xml.Comment:
			continue
		}
		return p.errf("%w: data after </event>", ErrSyntax)
	}
}

// skip consumes the rest of the current element.
func (p *xmlParser) skip() error {
	for depth := 1; depth > 0; {
		tok, _, err := p.token()
		if err == io.EOF {
			return p.errf("%w: unexpected end of document", ErrSyntax)
		}
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

func (p *xmlParser) point(ev *Event, se xml.StartElement) error {
	var haveLat, haveLon bool
	for _, a := range se.Attr {
		var dst *float64
		switch a.Name.Local {
		case "lat":
			dst, haveLat = &ev.Point.Lat, true
		case "lon":
			dst, haveLon = &ev.Point.Lon, true
		case "hae":
			dst = &ev.Point.HAE
		case "ce":
			dst = &ev.Point.CE
		case "le":
			dst = &ev.Point.LE
		default:
			continue
		}
		v, err := parseFloat(a.Value)
		if err != nil {
			return &FieldError{UID: ev.UID, Field: "point " + a.Name.Local, Value: a.Value, Err: ErrRange}
		}
		*dst = v
	}
	if !haveLat {
		return &FieldError{UID: ev.UID, Field: "point lat", Err: ErrMissing}
	}
	if !haveLon {
		return &FieldError{UID: ev.UID, Field: "point lon", Err: ErrMissing}
	}
	return p.skip()
}

// child is one top-level element of <detail>.
type child struct {
	name    string
	attrs   []xml.Attr
	raw     []byte
	text    []byte // character data directly inside the element
	nested  bool   // has child elements
	ellipse *xml.StartElement
}

// detail parses the children of <detail> into ev.
func (p *xmlParser) detail(ev *Event) error {
	base := p.depth
	var rest bytes.Buffer
	var c *child
	var start int64
	for {
		tok, off, err := p.token()
		if err == io.EOF {
			return p.errf("%w: unexpected end of document in <detail>", ErrSyntax)
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if p.depth == base+1 {
				c = &child{name: t.Name.Local, attrs: t.Copy().Attr}
				start = off
				continue
			}
			c.nested = true
			if t.Name.Local == "ellipse" && c.name == "shape" && c.ellipse == nil {
				se := t.Copy()
				c.ellipse = &se
			}
		case xml.CharData:
			if c != nil && p.depth == base+1 {
				c.text = append(c.text, t...)
			}
		case xml.EndElement:
			if p.depth == base-1 {
				if rest.Len() > 0 {
					ev.Detail = rest.Bytes()
				}
				return nil
			}
			if p.depth == base {
				c.raw = p.data[start:p.d.InputOffset()]
				p.seen |= kindOf[c.name]
				keep, err := apply(ev, c)
				if err != nil {
					return err
				}
				if keep {
					rest.Write(c.raw)
				}
				c = nil
			}
		}
	}
}

// apply copies a detail child into the typed fields of ev and reports
// whether it must also be kept verbatim in Detail.
func apply(ev *Event, c *child) (keep bool, err error) {
	get := func(name string) (string, bool) {
		for _, a := range c.attrs {
			if a.Name.Local == name && a.Name.Space == "" {
				return a.Value, true
			}
		}
		return "", false
	}
	// modelled reports whether c has no content beyond the named attributes.
	modelled := func(names ...string) bool {
		if c.nested || len(bytes.TrimSpace(c.text)) > 0 {
			return false
		}
		for _, a := range c.attrs {
			ok := a.Name.Space == ""
			if ok {
				ok = false
				for _, n := range names {
					ok = ok || a.Name.Local == n
				}
			}
			if !ok {
				return false
			}
		}
		return true
	}
	num := func(field, v string) (float64, error) {
		f, err := parseFloat(v)
		if err != nil {
			return 0, &FieldError{UID: ev.UID, Field: field, Value: v, Err: ErrRange}
		}
		return f, nil
	}
	// mark records whether an element of kind k must be kept verbatim. Once
	// one element of a kind is verbatim, later ones are too, so that the
	// last one still wins when the event is re-read.
	mark := func(k kinds, full bool) bool {
		if full && ev.verbatim&k == 0 {
			return false
		}
		ev.verbatim |= k
		return true
	}
	switch c.name {
	case "contact":
		ev.Callsign, _ = get("callsign")
		ev.Endpoint, _ = get("endpoint")
		return mark(kContact, modelled("callsign", "endpoint")), nil
	case "__group":
		g := &Group{}
		g.Name, _ = get("name")
		g.Role, _ = get("role")
		ev.Group = g
		return mark(kGroup, modelled("name", "role")), nil
	case "precisionlocation":
		l := &PrecisionLocation{}
		l.GeoPointSrc, _ = get("geopointsrc")
		l.AltSrc, _ = get("altsrc")
		ev.Location = l
		return mark(kLocation, modelled("geopointsrc", "altsrc")), nil
	case "takv":
		t := &Takv{}
		t.Device, _ = get("device")
		t.Platform, _ = get("platform")
		t.OS, _ = get("os")
		t.Version, _ = get("version")
		ev.Takv = t
		return mark(kTakv, modelled("device", "platform", "os", "version")), nil
	case "status":
		full := modelled("battery")
		if v, ok := get("battery"); ok {
			b, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || b < 0 || b > math.MaxUint32 {
				return false, &FieldError{UID: ev.UID, Field: "status battery", Value: v, Err: ErrRange}
			}
			ev.Battery = b
			full = full && b > 0
		} else {
			full = false
		}
		return mark(kStatus, full), nil
	case "track":
		// TAK protocol carries both values, so only a complete track is typed.
		_, hasC := get("course")
		_, hasS := get("speed")
		for _, f := range []struct {
			name string
			dst  *float64
		}{{"course", &ev.Course}, {"speed", &ev.Speed}} {
			if v, ok := get(f.name); ok {
				x, err := num("track "+f.name, v)
				if err != nil {
					return false, err
				}
				*f.dst = x
			}
		}
		return mark(kTrack, hasC && hasS && modelled("course", "speed")), nil
	case "remarks":
		ev.Remarks = string(c.text)
		return mark(kRemarks, !c.nested && len(c.attrs) == 0), nil
	case "shape":
		if c.ellipse != nil {
			el := &Ellipse{}
			for _, a := range c.ellipse.Attr {
				var dst *float64
				switch a.Name.Local {
				case "major":
					dst = &el.Major
				case "minor":
					dst = &el.Minor
				case "angle":
					dst = &el.Angle
				default:
					continue
				}
				x, err := num("shape ellipse "+a.Name.Local, a.Value)
				if err != nil {
					return false, err
				}
				*dst = x
			}
			ev.Ellipse = el
		}
		// Only a bare <shape><ellipse major minor angle/></shape> is typed.
		full := c.ellipse != nil && len(c.attrs) == 0 &&
			bytes.Count(c.raw, []byte("<")) == 3 && len(c.ellipse.Attr) <= 3
		return mark(kShape, full), nil
	case "link":
		l := Link{}
		l.UID, _ = get("uid")
		l.Type, _ = get("type")
		l.Relation, _ = get("relation")
		if v, ok := get("point"); ok {
			pt, err := parseLinkPoint(v)
			if err != nil {
				return false, &FieldError{UID: ev.UID, Field: "link point", Value: v, Err: ErrRange}
			}
			l.Point = &pt
		}
		l.verbatim = !modelled("uid", "type", "relation", "point")
		ev.Links = append(ev.Links, l)
		return l.verbatim, nil
	}
	return true, nil
}

// parseLinkPoint parses the "lat,lon[,hae]" form used by shape vertices.
func parseLinkPoint(s string) (Point, error) {
	parts := strings.Split(s, ",")
	if len(parts) < 2 || len(parts) > 3 {
		return Point{}, ErrRange
	}
	p := Point{HAE: Unknown, CE: Unknown, LE: Unknown}
	dst := []*float64{&p.Lat, &p.Lon, &p.HAE}
	for i, s := range parts {
		v, err := parseFloat(s)
		if err != nil {
			return Point{}, err
		}
		*dst[i] = v
	}
	if !(p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180) {
		return Point{}, ErrRange
	}
	return p, nil
}

func parseFloat(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, ErrRange
	}
	return v, nil
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, err
	}
	if t.UnixMilli() <= 0 || t.Year() > 9999 { // TAK protocol cannot carry 0
		return time.Time{}, ErrRange
	}
	return t.UTC(), nil
}

// timeLayout is the form ATAK writes: UTC with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func formatFloat(v float64) string {
	if v == Unknown {
		return "9999999.0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// MarshalXML encodes ev as a CoT XML document with an XML declaration.
// It does not validate ev.
func MarshalXML(ev Event) []byte {
	var b bytes.Buffer
	b.Grow(512 + len(ev.Detail))
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`)
	writeEvent(&b, &ev)
	return b.Bytes()
}

func writeEvent(b *bytes.Buffer, ev *Event) {
	version := ev.Version
	if version == "" {
		version = "2.0"
	}
	b.WriteString(`<event`)
	attr(b, "version", version)
	attr(b, "uid", ev.UID)
	attr(b, "type", ev.Type)
	attr(b, "time", formatTime(ev.Time))
	attr(b, "start", formatTime(ev.Start))
	attr(b, "stale", formatTime(ev.Stale))
	if ev.How != "" {
		attr(b, "how", ev.How)
	}
	for _, a := range [][2]string{{"access", ev.Access}, {"qos", ev.QoS}, {"opex", ev.Opex}} {
		if a[1] != "" {
			attr(b, a[0], a[1])
		}
	}
	b.WriteString(`><point`)
	attr(b, "lat", formatFloat(ev.Point.Lat))
	attr(b, "lon", formatFloat(ev.Point.Lon))
	attr(b, "hae", formatFloat(ev.Point.HAE))
	attr(b, "ce", formatFloat(ev.Point.CE))
	attr(b, "le", formatFloat(ev.Point.LE))
	b.WriteString(`/><detail>`)
	writeTypedDetail(b, ev)
	writeXMLDetail(b, ev)
	b.WriteString(`</detail></event>`)
}

// writeTypedDetail writes the elements that TAK protocol carries as typed
// messages.
func writeTypedDetail(b *bytes.Buffer, ev *Event) {
	if ev.verbatim&kContact == 0 && (ev.Callsign != "" || ev.Endpoint != "") {
		b.WriteString(`<contact`)
		if ev.Endpoint != "" {
			attr(b, "endpoint", ev.Endpoint)
		}
		attr(b, "callsign", ev.Callsign)
		b.WriteString(`/>`)
	}
	if ev.verbatim&kGroup == 0 && ev.Group != nil {
		b.WriteString(`<__group`)
		attr(b, "name", ev.Group.Name)
		attr(b, "role", ev.Group.Role)
		b.WriteString(`/>`)
	}
	if ev.verbatim&kLocation == 0 && ev.Location != nil {
		b.WriteString(`<precisionlocation`)
		attr(b, "geopointsrc", ev.Location.GeoPointSrc)
		attr(b, "altsrc", ev.Location.AltSrc)
		b.WriteString(`/>`)
	}
	if ev.verbatim&kStatus == 0 && ev.Battery > 0 {
		b.WriteString(`<status`)
		attr(b, "battery", strconv.Itoa(ev.Battery))
		b.WriteString(`/>`)
	}
	if ev.verbatim&kTakv == 0 && ev.Takv != nil {
		b.WriteString(`<takv`)
		attr(b, "device", ev.Takv.Device)
		attr(b, "platform", ev.Takv.Platform)
		attr(b, "os", ev.Takv.OS)
		attr(b, "version", ev.Takv.Version)
		b.WriteString(`/>`)
	}
	if ev.verbatim&kTrack == 0 && ev.HasTrack() {
		b.WriteString(`<track`)
		attr(b, "course", formatFloat(zeroNaN(ev.Course)))
		attr(b, "speed", formatFloat(zeroNaN(ev.Speed)))
		b.WriteString(`/>`)
	}
}

// writeXMLDetail writes everything TAK protocol carries in xmlDetail.
func writeXMLDetail(b *bytes.Buffer, ev *Event) {
	if ev.verbatim&kRemarks == 0 && ev.Remarks != "" {
		b.WriteString(`<remarks>`)
		_ = xml.EscapeText(b, []byte(ev.Remarks))
		b.WriteString(`</remarks>`)
	}
	if ev.verbatim&kShape == 0 && ev.Ellipse != nil {
		b.WriteString(`<shape><ellipse`)
		attr(b, "major", formatFloat(ev.Ellipse.Major))
		attr(b, "minor", formatFloat(ev.Ellipse.Minor))
		attr(b, "angle", formatFloat(ev.Ellipse.Angle))
		b.WriteString(`/></shape>`)
	}
	for _, l := range ev.Links {
		if l.verbatim {
			continue
		}
		b.WriteString(`<link`)
		for _, a := range [][2]string{{"uid", l.UID}, {"type", l.Type}, {"relation", l.Relation}} {
			if a[1] != "" {
				attr(b, a[0], a[1])
			}
		}
		if l.Point != nil {
			s := formatFloat(l.Point.Lat) + "," + formatFloat(l.Point.Lon)
			if l.Point.HAE != Unknown {
				s += "," + formatFloat(l.Point.HAE)
			}
			attr(b, "point", s)
		}
		b.WriteString(`/>`)
	}
	b.Write(ev.Detail)
}

func zeroNaN(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

func attr(b *bytes.Buffer, name, value string) {
	b.WriteByte(' ')
	b.WriteString(name)
	b.WriteString(`="`)
	_ = xml.EscapeText(b, []byte(value))
	b.WriteByte('"')
}

// errIs reports whether err wraps any of targets.
func errIs(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
