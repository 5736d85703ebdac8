package cot

import (
	"bytes"
	"strconv"
	"time"
)

// Color is an ARGB colour as ATAK stores it (0xAARRGGBB).
type Color uint32

// Colours for outgoing shapes and markers.
const (
	Red    Color = 0xffff0000
	Yellow Color = 0xffffff00
	Blue   Color = 0xff0000ff
	White  Color = 0xffffffff
)

// WithAlpha returns c with its alpha channel replaced by a.
func (c Color) WithAlpha(a uint8) Color { return c&0x00ffffff | Color(a)<<24 }

// String returns the signed decimal form ATAK uses in value="..."
// attributes, for example "-65536" for opaque red.
func (c Color) String() string { return strconv.FormatInt(int64(int32(c)), 10) }

// MarkerType is the CoT type Marker uses when given an empty type: an ATAK
// "spot map" marker. A spot marker is a plain coloured dot that carries no
// claim about who or what is there. truce reports incidents, not units, so
// hostile atoms such as "a-h-G" would wrongly attribute hostility, draw a
// MIL-STD-2525 symbol and feed the receiving team's threat filters.
const MarkerType = "b-m-p-s-m"

// machineHow is the "how" of events truce generates (machine generated).
const machineHow = "m-g"

// Marker builds a point marker for an incident. An empty typ means
// MarkerType; the marker is red, labelled callsign, carries remarks and is
// valid from t until t+stale.
func Marker(uid, typ string, p Point, callsign, remarks string, t time.Time, stale time.Duration) Event {
	if typ == "" {
		typ = MarkerType
	}
	ev := base(uid, typ, p, callsign, t, stale)
	ev.Remarks = remarks
	var d bytes.Buffer
	d.WriteString(`<color`)
	attr(&d, "argb", Red.String())
	d.WriteString(`/>`)
	if typ == MarkerType {
		d.WriteString(`<usericon`)
		attr(&d, "iconsetpath", "COT_MAPPING_SPOTMAP/b-m-p-s-m/"+Red.String())
		d.WriteString(`/>`)
	}
	ev.Detail = d.Bytes()
	return ev
}

// Polygon builds a closed drawing shape ("u-d-f") named name through the
// vertices of ring, as ATAK draws a free-form polygon: one
// <link point="lat,lon"/> per vertex with the first repeated at the end,
// stroke in color and a translucent fill of the same colour. The event point
// is the mean of the vertices.
func Polygon(uid, name string, ring []Point, color Color, t time.Time, stale time.Duration) Event {
	if n := len(ring); n > 0 && (ring[0].Lat != ring[n-1].Lat || ring[0].Lon != ring[n-1].Lon) {
		ring = append(ring[:n:n], ring[0])
	}
	return shape(uid, name, ring, color, true, t, stale)
}

// Polyline builds an open drawing line ("u-d-f") named name, for example the
// line of contact, through the vertices of line.
func Polyline(uid, name string, line []Point, color Color, t time.Time, stale time.Duration) Event {
	return shape(uid, name, line, color, false, t, stale)
}

func shape(uid, name string, pts []Point, color Color, fill bool, t time.Time, stale time.Duration) Event {
	var c Point
	for _, p := range pts {
		c.Lat += p.Lat / float64(len(pts))
		c.Lon += p.Lon / float64(len(pts))
	}
	ev := base(uid, "u-d-f", c, name, t, stale)
	for _, p := range pts {
		v := Point{Lat: p.Lat, Lon: p.Lon, HAE: Unknown, CE: Unknown, LE: Unknown}
		ev.Links = append(ev.Links, Link{Point: &v})
	}
	ev.Detail = style(color, fill)
	return ev
}

// Circle builds a drawing circle ("u-d-c-c") named name around centre with
// the given radius in metres, as ATAK draws one: <shape><ellipse major=r
// minor=r angle="360"/></shape> with stroke and translucent fill in color.
func Circle(uid, name string, centre Point, radius float64, color Color, t time.Time, stale time.Duration) Event {
	ev := base(uid, "u-d-c-c", centre, name, t, stale)
	ev.Ellipse = &Ellipse{Major: radius, Minor: radius, Angle: 360}
	ev.Detail = style(color, true)
	return ev
}

func base(uid, typ string, p Point, callsign string, t time.Time, stale time.Duration) Event {
	ev := newEvent()
	ev.Version = "2.0"
	ev.UID, ev.Type, ev.How = uid, typ, machineHow
	ev.Time, ev.Start, ev.Stale = t.UTC(), t.UTC(), t.Add(stale).UTC()
	ev.Point.Lat, ev.Point.Lon = p.Lat, p.Lon
	// Zero means not given: the builders' points are often bare.
	for _, f := range []struct{ from, to *float64 }{{&p.HAE, &ev.Point.HAE}, {&p.CE, &ev.Point.CE}, {&p.LE, &ev.Point.LE}} {
		if *f.from != 0 {
			*f.to = *f.from
		}
	}
	ev.Callsign = callsign
	return ev
}

// style returns the drawing style detail ATAK writes for shapes.
func style(color Color, fill bool) []byte {
	var d bytes.Buffer
	d.WriteString(`<strokeColor`)
	attr(&d, "value", color.String())
	d.WriteString(`/><strokeWeight value="3.0"/>`)
	if fill {
		d.WriteString(`<fillColor`)
		attr(&d, "value", color.WithAlpha(0x60).String())
		d.WriteString(`/>`)
	}
	d.WriteString(`<labels_on value="true"/>`)
	return d.Bytes()
}
