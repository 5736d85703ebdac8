package ingest

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/truce-dev/truce/internal/api"
)

// CSVColumns are the column names of the CSV format, in the order of the
// wire fields: the fields of the JSON form, flattened.
var CSVColumns = []string{
	"source", "source_id", "method", "category", "weapon", "count",
	"time", "time_uncertainty_s",
	"lat", "lon", "cep_m",
	"observer_lat", "observer_lon", "bearing_deg", "distance_min_m", "distance_max_m",
	"fire_bearing_deg", "reliability", "credibility", "party", "text",
	"tlp", "rel_to",
}

// csvRequired are the columns a CSV header must have.
var csvRequired = []string{"source", "source_id", "method", "category", "time"}

const (
	colSource = iota
	colSourceID
	colMethod
	colCategory
	colWeapon
	colCount
	colTime
	colTimeUncertainty
	colLat
	colLon
	colCEP
	colObserverLat
	colObserverLon
	colBearing
	colDistanceMin
	colDistanceMax
	colFireBearing
	colReliability
	colCredibility
	colParty
	colText
	colTLP
	colRelTo
	numColumns
)

// csvField names a wire field by its CSV column.
func csvField(f string) string {
	switch f {
	case "observer.lat":
		return "observer_lat"
	case "observer.lon":
		return "observer_lon"
	case "marking.tlp":
		return "tlp"
	case "marking.rel_to":
		return "rel_to"
	}
	return f
}

// csvSource reads a CSV input: a header row naming columns of CSVColumns,
// then one record a row. Empty cells are absent fields.
type csvSource struct {
	lim    *limitReader
	r      *csv.Reader
	max    int
	header bool
	cols   []int // column of each cell
	line   int   // the last line read
	done   bool
}

// limitReader refuses to read more than limit bytes past mark: it bounds
// what the csv package buffers of one record.
type limitReader struct {
	r      io.Reader
	n      int64 // bytes read
	mark   int64
	limit  int64
	broken bool
}

var errCSVTooLarge = errors.New("csv record too large")

func (l *limitReader) Read(p []byte) (int, error) {
	room := l.mark + l.limit - l.n
	if room <= 0 {
		l.broken = true
		return 0, errCSVTooLarge
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

func newCSVSource(r *bufio.Reader, max int) *csvSource {
	lim := &limitReader{r: r, limit: int64(max) + 64<<10}
	cr := csv.NewReader(lim)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	return &csvSource{lim: lim, r: cr, max: max}
}

func (c *csvSource) readHeader() error {
	c.lim.mark = 0
	rec, err := c.r.Read()
	if err == io.EOF {
		return formatError(CSV, "the input is empty: want a header row (%s)", strings.Join(CSVColumns, ","))
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) || c.lim.broken {
			return formatError(CSV, "the header row is not valid CSV: %v", err)
		}
		return err
	}
	c.line, _ = c.r.FieldPos(len(rec) - 1)
	c.cols = make([]int, len(rec))
	seen := make([]bool, numColumns)
	for i, name := range rec {
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff")
		}
		name = strings.TrimSpace(name)
		col := slices.Index(CSVColumns, name)
		if col < 0 {
			return formatError(CSV, "unknown column %q in the header (want some of %s)", name, strings.Join(CSVColumns, ", "))
		}
		if seen[col] {
			return formatError(CSV, "column %q appears twice in the header", name)
		}
		seen[col] = true
		c.cols[i] = col
	}
	for _, name := range csvRequired {
		if !seen[slices.Index(CSVColumns, name)] {
			return formatError(CSV, "the header has no column %q (the columns %s are required)", name, strings.Join(csvRequired, ", "))
		}
	}
	return nil
}

func (c *csvSource) record(w *api.Observation) (int, *Rejection, error) {
	if !c.header {
		c.header = true
		if err := c.readHeader(); err != nil {
			c.done = true
			return 0, nil, err
		}
	}
	if c.done {
		return 0, nil, io.EOF
	}
	start := c.r.InputOffset()
	c.lim.mark, c.lim.broken = start, false
	rec, err := c.r.Read()
	if err == io.EOF {
		c.done = true
		return 0, nil, io.EOF
	}
	if err != nil && c.lim.broken {
		c.done = true
		return c.line + 1, reject("", "the row is more than %d bytes long, the limit (reading stops here)", c.max), nil
	}
	if err != nil {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return 0, nil, err
		}
		c.line = pe.Line
		return pe.StartLine, reject("", "is not valid CSV: %v", pe.Err), nil
	}
	line, _ := c.r.FieldPos(0)
	c.line, _ = c.r.FieldPos(len(rec) - 1)
	if size := c.r.InputOffset() - start; size > int64(c.max) {
		return line, reject("", "the row is %d bytes long, more than the limit of %d", size, c.max), nil
	}
	if len(rec) != len(c.cols) {
		return line, reject("", "has %d cells, want %d as in the header", len(rec), len(c.cols)), nil
	}
	return line, c.fill(w, rec), nil
}

// fill sets the fields of w from the cells of one row.
func (c *csvSource) fill(w *api.Observation, rec []string) *Rejection {
	var obs api.LatLon
	var dmin, dmax *float64
	for i, cell := range rec {
		cell = strings.TrimSpace(cell)
		if cell == "" {
			continue
		}
		col := c.cols[i]
		var r *Rejection
		switch col {
		case colSource:
			w.Source = cell
		case colSourceID:
			w.SourceID = cell
		case colMethod:
			w.Method = cell
		case colCategory:
			w.Category = cell
		case colWeapon:
			w.Weapon = cell
		case colCount:
			n, err := strconv.Atoi(cell)
			if err != nil {
				return reject("count", "want a whole number, got %q", cell)
			}
			w.Count = &n
		case colCredibility:
			n, err := strconv.Atoi(cell)
			if err != nil {
				return reject("credibility", "want a whole number, got %q", cell)
			}
			w.Credibility = &n
		case colTime:
			w.Time = cell
		case colTimeUncertainty:
			w.TimeUncertaintyS, r = float(col, cell)
		case colLat:
			w.Lat, r = float(col, cell)
		case colLon:
			w.Lon, r = float(col, cell)
		case colCEP:
			w.CEPM, r = float(col, cell)
		case colObserverLat:
			obs.Lat, r = float(col, cell)
			w.Observer = &obs
		case colObserverLon:
			obs.Lon, r = float(col, cell)
			w.Observer = &obs
		case colBearing:
			w.BearingDeg, r = float(col, cell)
		case colDistanceMin:
			dmin, r = float(col, cell)
		case colDistanceMax:
			dmax, r = float(col, cell)
		case colFireBearing:
			w.FireBearingDeg, r = float(col, cell)
		case colReliability:
			w.Reliability = cell
		case colParty:
			w.Party = cell
		case colText:
			w.Text = cell
		case colTLP:
			if w.Marking == nil {
				w.Marking = &api.Marking{}
			}
			w.Marking.TLP = cell
		case colRelTo:
			if w.Marking == nil {
				w.Marking = &api.Marking{}
			}
			for id := range strings.SplitSeq(cell, ";") {
				w.Marking.RelTo = append(w.Marking.RelTo, strings.TrimSpace(id))
			}
		}
		if r != nil {
			return r
		}
	}
	switch {
	case dmin != nil && dmax != nil:
		w.DistanceM = []float64{*dmin, *dmax}
	case dmin != nil:
		return reject("distance_max_m", "required with distance_min_m")
	case dmax != nil:
		return reject("distance_min_m", "required with distance_max_m")
	}
	return nil
}

func float(col int, cell string) (*float64, *Rejection) {
	x, err := strconv.ParseFloat(cell, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return nil, reject(CSVColumns[col], "%s is out of range", cell)
		}
		return nil, reject(CSVColumns[col], "want a number, got %q", cell)
	}
	return &x, nil
}
