package report

import (
	"cmp"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/truce-dev/truce/internal/agreement"
	"github.com/truce-dev/truce/internal/engine"
	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// MaxDots is how many of the day's incidents the map draws one by one;
// beyond it they are aggregated into cells of AggregateCell pixels.
const MaxDots = 5000

// AggregateCell is the side of an aggregation cell, in pixels, at first;
// it doubles (up to 64) until no more than MaxCells cells and parties are
// drawn.
const (
	AggregateCell = 4
	MaxCells      = 2000
)

// mapWidth and mapMaxHeight bound the map's size in pixels.
const (
	mapWidth     = 800
	mapMaxHeight = 900
)

// LevelColour is the fill of a sector at each alert level.
var LevelColour = map[truce.Level]string{
	truce.LevelCalm:     "#2e9d3a",
	truce.LevelTense:    "#f2d21b",
	truce.LevelSerious:  "#f28c1b",
	truce.LevelCritical: "#d7261e",
}

// partyColours colour incidents by attribution, in the agreement's party
// order; undeterminedColour is for the rest. None is a level colour.
var (
	partyColours       = []string{"#1f4e9c", "#8e2c8a", "#0f7f86", "#6b4f1d", "#3b3b8f"}
	undeterminedColour = "#4a4a4a"
)

func partyColour(i, nParty int) string {
	if i == nParty-1 {
		return undeterminedColour
	}
	return partyColours[i%len(partyColours)]
}

// mapData is the drawn map.
type mapData struct {
	info MapInfo
	svg  template.HTML
}

// projection is equirectangular, scaled to a bounding box.
type projection struct {
	minLon, maxLat, kx, ky float64
}

func (p projection) xy(pt geo.Point) (float64, float64) {
	return (pt.Lon - p.minLon) * p.kx, (p.maxLat - pt.Lat) * p.ky
}

// esc escapes s for XML text and attribute values.
func esc(s string) string { return template.HTMLEscapeString(s) }

func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// pathOf writes rings as an SVG path, dropping points that fall on the
// previous one at a tenth of a pixel.
func pathOf(b *strings.Builder, p projection, rings [][]geo.Point, closed bool) {
	for _, ring := range rings {
		var lastX, lastY string
		n := 0
		for _, pt := range ring {
			x, y := p.xy(pt)
			sx, sy := num(x), num(y)
			if n > 0 && sx == lastX && sy == lastY {
				continue
			}
			if n == 0 {
				b.WriteString("M")
			} else {
				b.WriteString(" L")
			}
			b.WriteString(sx)
			b.WriteByte(',')
			b.WriteString(sy)
			lastX, lastY = sx, sy
			n++
		}
		if closed && n > 0 {
			b.WriteString(" Z ")
		} else {
			b.WriteByte(' ')
		}
	}
}

func polyRings(mp geo.MultiPolygon) [][]geo.Point {
	var rs [][]geo.Point
	for _, poly := range mp {
		for _, ring := range poly {
			rs = append(rs, ring)
		}
	}
	return rs
}

// drawMap draws the agreement's line, sectors by level, zones and the
// day's incidents (the records at dayIdx).
func drawMap(a *truce.Agreement, recs []engine.Record, dayIdx []int, levels []SectorLevel, col func(truce.PartyID) int) *mapData {
	nParty := len(a.Parties) + 1
	box := agreement.Bound(a)
	if box.Empty() {
		for _, i := range dayIdx {
			box = box.Extend(recs[i].Incident.Location)
		}
	}
	if box.Empty() {
		box = geo.Rect{MinLat: -1, MinLon: -1, MaxLat: 1, MaxLon: 1}
	}
	box = box.Expand(2e3)
	midLat := (box.MinLat + box.MaxLat) / 2 * math.Pi / 180
	dx := math.Max(box.MaxLon-box.MinLon, 1e-6) * math.Cos(midLat)
	dy := math.Max(box.MaxLat-box.MinLat, 1e-6)
	w := float64(mapWidth)
	h := w * dy / dx
	if h > mapMaxHeight {
		h = mapMaxHeight
		w = h * dx / dy
	}
	W, H := int(math.Ceil(w)), int(math.Ceil(h))
	k := w / dx // pixels per degree of latitude
	proj := projection{minLon: box.MinLon, maxLat: box.MaxLat, kx: k * math.Cos(midLat), ky: k}
	metresPerPixel := 111_195 / k

	md := &mapData{info: MapInfo{Width: W, Height: H, MinLat: round4(box.MinLat), MinLon: round4(box.MinLon), MaxLat: round4(box.MaxLat), MaxLon: round4(box.MaxLon)}}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="map" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="Map of the line, sectors by alert level, zones and the day's incidents">`, W, H, W, H)
	b.WriteString(`<rect x="0" y="0" width="100%" height="100%" fill="#f7f7f2"/>`)

	level := map[string]SectorLevel{}
	for _, l := range levels {
		level[l.Sector] = l
	}
	b.WriteString(`<g class="sectors" fill-rule="evenodd" fill-opacity="0.35" stroke="#666" stroke-width="0.8">`)
	for _, s := range a.Sectors {
		if s.Area == nil {
			continue
		}
		l, ok := level[s.ID]
		fill, what := "#cccccc", "no level"
		if ok {
			fill, what = cmp.Or(LevelColour[l.Level], fill), string(l.Level)
		}
		fmt.Fprintf(&b, `<path fill="%s" d="`, fill)
		pathOf(&b, proj, polyRings(s.Area.Polygons()), true)
		fmt.Fprintf(&b, `"><title>sector %s: %s</title></path>`, esc(cmp.Or(s.Name, s.ID)), esc(what))
	}
	b.WriteString(`</g>`)

	if sh, err := agreement.ZoneShapes(a, math.Max(metresPerPixel, 10)); err == nil {
		b.WriteString(`<g class="zones" fill="none" stroke-width="1" stroke-dasharray="4 3">`)
		for _, p := range sh.Pieces {
			stroke := "#555"
			if p.Zone.Kind == truce.ZoneWithdrawal {
				stroke = "#1b5e9b"
			} else if p.Zone.Kind == truce.ZoneProtectedSite {
				stroke = "#0a7d52"
			}
			fmt.Fprintf(&b, `<path stroke="%s" d="`, stroke)
			pathOf(&b, proj, polyRings(p.Polygons), true)
			label := cmp.Or(p.Zone.Name, p.Zone.ID) + " (" + string(p.Zone.Kind) + ")"
			if p.Side != "" {
				label += ", " + string(p.Side) + " side"
			}
			fmt.Fprintf(&b, `"><title>zone %s</title></path>`, esc(label))
		}
		b.WriteString(`</g>`)
	}

	if a.Line != nil {
		b.WriteString(`<path class="line" fill="none" stroke="#111" stroke-width="2" d="`)
		pathOf(&b, proj, a.Line.Parts(), false)
		b.WriteString(`"><title>line of contact</title></path>`)
	}

	drawDots(&b, a, md, proj, recs, dayIdx, col, nParty, float64(W), float64(H))
	b.WriteString(`</svg>`)
	md.svg = template.HTML(b.String())
	return md
}

func drawDots(b *strings.Builder, a *truce.Agreement, md *mapData, proj projection, recs []engine.Record, dayIdx []int, col func(truce.PartyID) int, nParty int, W, H float64) {
	type dot struct {
		x, y  float64
		party int
		inc   *truce.Incident
	}
	dots := make([]dot, 0, len(dayIdx))
	for _, i := range dayIdx {
		inc := &recs[i].Incident
		x, y := proj.xy(inc.Location)
		if x < 0 || y < 0 || x > W || y > H {
			md.info.Outside++
			continue
		}
		dots = append(dots, dot{x, y, col(inc.Party), inc})
	}
	md.info.Incidents = len(dots)
	b.WriteString(`<g class="incidents" stroke="#fff" stroke-width="0.6">`)
	if len(dots) <= MaxDots {
		slices.SortFunc(dots, func(p, q dot) int {
			return cmp.Or(cmp.Compare(p.party, q.party), cmp.Compare(p.inc.ID, q.inc.ID))
		})
		for _, d := range dots {
			fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="3" fill="%s"><title>%s %s %s, %s</title></circle>`,
				num(d.x), num(d.y), partyColour(d.party, nParty), esc(DTG(d.inc.Start)), esc(string(d.inc.Category)), esc(partyKey(d.inc.Party)), esc(d.inc.ID))
		}
		md.info.Dots = len(dots)
	} else {
		type cell struct{ cx, cy, party int }
		var counts map[cell]int
		size := float64(AggregateCell)
		for {
			counts = map[cell]int{}
			for _, d := range dots {
				counts[cell{int(d.x / size), int(d.y / size), d.party}]++
			}
			if len(counts) <= MaxCells || size >= 64 {
				break
			}
			size *= 2
		}
		cells := make([]cell, 0, len(counts))
		for c := range counts {
			cells = append(cells, c)
		}
		slices.SortFunc(cells, func(p, q cell) int {
			return cmp.Or(cmp.Compare(p.party, q.party), cmp.Compare(p.cy, q.cy), cmp.Compare(p.cx, q.cx))
		})
		for _, c := range cells {
			n := counts[c]
			r := math.Min(1.5+math.Sqrt(float64(n))/2, size*1.5)
			party := Undetermined
			if c.party < len(a.Parties) {
				party = "attributed to " + string(a.Parties[c.party].ID)
			}
			fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="%s" fill="%s" fill-opacity="0.8"><title>%d incidents, %s</title></circle>`,
				num((float64(c.cx)+0.5)*size), num((float64(c.cy)+0.5)*size), num(r), partyColour(c.party, nParty), n, esc(party))
		}
		md.info.Dots = len(cells)
		md.info.Aggregated = true
		md.info.Cell = int(size)
	}
	b.WriteString(`</g>`)
}

// trendSVG draws the seven-day trend as bars stacked by party.
func trendSVG(r *Report) template.HTML {
	const W, H, left, bottom, top = 640, 220, 40, 24, 10
	maxTotal := 0
	for _, d := range r.Trend {
		maxTotal = max(maxTotal, d.Total)
	}
	scale := float64(H-bottom-top) / float64(max(maxTotal, 1))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="trend" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="Violations per day and party, seven days">`, W, H, W, H)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`, left, H-bottom, W, H-bottom)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" text-anchor="end">%d</text>`, left-4, top+8, maxTotal)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" text-anchor="end">0</text>`, left-4, H-bottom)
	n := max(len(r.Trend), 1)
	slot := float64(W-left) / float64(n)
	for i, d := range r.Trend {
		x := float64(left) + float64(i)*slot + slot*0.15
		y := float64(H - bottom)
		for j, c := range d.ByParty {
			if c.Count == 0 {
				continue
			}
			h := float64(c.Count) * scale
			y -= h
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s %s: %d</title></rect>`,
				num(x), num(y), num(slot*0.7), num(h), partyColour(j, len(d.ByParty)), esc(d.Date), esc(c.Key), c.Count)
		}
		fmt.Fprintf(&b, `<text x="%s" y="%d" font-size="11" text-anchor="middle">%s</text>`, num(x+slot*0.35), H-8, esc(d.Date[5:]))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
