package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/truce-dev/truce/internal/truce"
)

// JSON writes the report as indented JSON.
func (r *Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// cell makes s safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "\n", " ")
}

func (r *Report) sectorName(id string) string {
	if n, ok := r.sectorNames[id]; ok {
		return n
	}
	if id == "" {
		return "outside every sector"
	}
	return id
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func table(w io.Writer, head []string, rows [][]string) {
	fmt.Fprintf(w, "| %s |\n|", strings.Join(head, " | "))
	for range head {
		fmt.Fprint(w, " --- |")
	}
	fmt.Fprintln(w)
	for _, row := range rows {
		for i := range row {
			row[i] = cell(row[i])
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
	fmt.Fprintln(w)
}

func countList(cs []Count) string {
	if len(cs) == 0 {
		return "none"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s %d", c.Key, c.Count)
	}
	return strings.Join(parts, ", ")
}

func scores(s []float64) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = fmt.Sprintf("%g", v)
	}
	return strings.Join(parts, " / ")
}

// Markdown writes the report as Markdown (GitHub-flavoured tables).
func (r *Report) Markdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# Daily report %s: %s\n\n", r.Date, r.Agreement.Title)
	fmt.Fprintf(bw, "Agreement %s, version %d. As of %s (%s).\n\n", r.Agreement.ID, r.Agreement.Version, r.CutoffDTG, r.Cutoff.Format(time.RFC3339))

	fmt.Fprintf(bw, "## Summary\n\n%s\n\n", r.Summary.Text)
	head := []string{"Party", "Incidents", "Violations"}
	var rows [][]string
	for i, c := range r.Summary.ViolationsByParty {
		rows = append(rows, []string{c.Key, fmt.Sprint(r.Summary.IncidentsByParty[i].Count), fmt.Sprint(c.Count)})
	}
	rows = append(rows, []string{"total", fmt.Sprint(r.Summary.Incidents), fmt.Sprint(r.Summary.Violations)})
	table(bw, head, rows)

	fmt.Fprintf(bw, "## Violations by sector\n\n")
	for _, s := range r.Sectors {
		name := cell(s.Name)
		if s.Sector != "" && s.Sector != s.Name {
			name += " (" + cell(s.Sector) + ")"
		}
		fmt.Fprintf(bw, "### %s: %s\n\n", name, plural(s.Violations, "violation"))
		fmt.Fprintf(bw, "By party: %s.\n\n", countList(s.ByParty))
		if s.Violations == 0 {
			continue
		}
		table(bw, []string{"Category", "Violations"}, countRows(s.ByCategory))
		table(bw, []string{"Weapon class", "Violations"}, countRows(s.ByWeapon))
		table(bw, []string{"Rule", "Violations"}, countRows(s.ByRule))
	}

	fmt.Fprintf(bw, "## Sector levels at %s\n\n", r.CutoffDTG)
	rows = nil
	for _, l := range r.Levels {
		rows = append(rows, []string{l.Name, string(l.Level), l.SinceDTG, scores(l.Scores)})
	}
	table(bw, []string{"Sector", "Level", "Since", "Scores"}, rows)
	fmt.Fprintf(bw, "### Escalation timeline\n\n")
	if len(r.Timeline) == 0 {
		fmt.Fprintf(bw, "No sector changed level.\n\n")
	} else {
		rows = nil
		for _, c := range r.Timeline {
			rows = append(rows, []string{c.DTG, r.sectorName(c.Sector), string(c.From), string(c.To), scores(c.Scores)})
		}
		table(bw, []string{"DTG", "Sector", "From", "To", "Scores"}, rows)
	}

	fmt.Fprintf(bw, "## Weapons in violation of withdrawal lines\n\n")
	if len(r.Withdrawal) == 0 {
		fmt.Fprintf(bw, "None seen.\n\n")
	} else {
		rows = nil
		for _, s := range r.Withdrawal {
			rows = append(rows, []string{s.DTG, fmt.Sprintf("%.4f", s.Lat), fmt.Sprintf("%.4f", s.Lon), dash(s.MGRS), string(s.Weapon), fmt.Sprint(s.Count), s.ZoneName, s.Party, string(s.Likelihood), s.Explanation})
		}
		table(bw, []string{"DTG", "Lat", "Lon", "MGRS", "Weapon class", "Count", "Zone", "Party", "Likelihood", "Explanation"}, rows)
	}

	fmt.Fprintf(bw, "## Windows of silence\n\n")
	if len(r.Windows) == 0 {
		fmt.Fprintf(bw, "None in force.\n\n")
	} else {
		rows = nil
		for _, win := range r.Windows {
			rows = append(rows, []string{win.Name, win.FromDTG, dash(win.UntilDTG), win.Status, dash(strings.Join(win.Breaches, ", "))})
		}
		table(bw, []string{"Window", "From", "Until", "Status", "Breaches"}, rows)
	}

	fmt.Fprintf(bw, "## Restrictions of the monitors' freedom of movement\n\n")
	if len(r.Restrictions) == 0 {
		fmt.Fprintf(bw, "None.\n\n")
	} else {
		rows = nil
		for _, x := range r.Restrictions {
			rows = append(rows, []string{x.DTG, fmt.Sprintf("%.4f", x.Lat), fmt.Sprintf("%.4f", x.Lon), r.sectorName(x.Sector), x.Party, x.Explanation})
		}
		table(bw, []string{"DTG", "Lat", "Lon", "Sector", "Party", "Explanation"}, rows)
	}

	fmt.Fprintf(bw, "## Seven-day trend: violations per day\n\n")
	head = []string{"Date"}
	if len(r.Trend) > 0 {
		for _, c := range r.Trend[0].ByParty {
			head = append(head, c.Key)
		}
	}
	head = append(head, "Total")
	rows = nil
	for _, d := range r.Trend {
		row := []string{d.Date}
		for _, c := range d.ByParty {
			row = append(row, fmt.Sprint(c.Count))
		}
		rows = append(rows, append(row, fmt.Sprint(d.Total)))
	}
	table(bw, head, rows)
	if c := r.Commitments; c != nil {
		c.markdown(bw)
	}
	if c := r.Checkpoint; c != nil {
		fmt.Fprintf(bw, "## The record\n\nMade from the journal at checkpoint %d of the evidence log %s (root %s). Check that the record still stands with `truce verify`; the signed checkpoint:\n\n```\n%s```\n\n", c.Size, c.Origin, c.Root, c.Note)
	}
	fmt.Fprintf(bw, "Times are UTC; DTG is DDHHMMZ MON YY. Confidence in estimative language: almost certain (90 %% and above), likely (55 %% to 90 %%), roughly even chance (45 %% to 55 %%), unlikely (20 %% to 45 %%), remote (below 20 %%).\n")
	return bw.Flush()
}

func countRows(cs []Count) [][]string {
	rows := make([][]string, len(cs))
	for i, c := range cs {
		rows[i] = []string{c.Key, fmt.Sprint(c.Count)}
	}
	return rows
}

// legendItem is a swatch in the HTML legend.
type legendItem struct{ Colour, Label string }

// HTML writes the report as a self-contained HTML page: inline CSS, inline
// SVG map and trend chart, no scripts, no network references.
func (r *Report) HTML(w io.Writer) error {
	data := struct {
		*Report
		MapSVG   template.HTML
		TrendSVG template.HTML
		Levels   []legendItem
		Parties  []legendItem
	}{Report: r, TrendSVG: trendSVG(r)}
	if r.m != nil {
		data.MapSVG = r.m.svg
	}
	for _, l := range []string{"CALM", "TENSE", "SERIOUS", "CRITICAL"} {
		data.Levels = append(data.Levels, legendItem{LevelColour[levelOf(l)], l})
	}
	n := len(r.Parties) + 1
	for i, p := range r.Parties {
		data.Parties = append(data.Parties, legendItem{partyColour(i, n), p.ID})
	}
	data.Parties = append(data.Parties, legendItem{undeterminedColour, Undetermined})
	bw := bufio.NewWriter(w)
	if err := page.Execute(bw, data); err != nil {
		return err
	}
	return bw.Flush()
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"sector": func(r *Report, id string) string { return r.sectorName(id) },
	"dash":   dash,
	"scores": scores,
	"coord":  func(v float64) string { return fmt.Sprintf("%.4f", v) },
	"counts": countList,
	"level":  func(l any) string { return LevelColour[levelOf(fmt.Sprint(l))] },
	"qty":    Quantity,
}).Parse(pageHTML))

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Daily report {{.Date}}: {{.Agreement.Title}}</title>
<style>
body { font-family: Georgia, "Times New Roman", serif; max-width: 60em; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; border-bottom: 2px solid #333; }
h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #aaa; }
h3 { font-size: 1.05em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; margin: 0 0.3em 0 0.8em; vertical-align: middle; border: 1px solid #888; }
.level { padding: 0 0.4em; border-radius: 3px; }
.note { font-size: 0.85em; color: #555; }
tr.missing td, tr.overdue td { background: #fbe3e0; }
tr.overdue strong { color: #a40000; }
svg { display: block; margin: 0.5em 0; max-width: 100%; height: auto; }
@media print { body { margin: 0; max-width: none; } }
</style>
</head>
<body>
<h1>Daily report {{.Date}}</h1>
<p>{{.Agreement.Title}} (agreement {{.Agreement.ID}}, version {{.Agreement.Version}}). As of <strong>{{.CutoffDTG}}</strong>.</p>

<h2>Summary</h2>
<p>{{.Summary.Text}}</p>
<table>
<tr><th>Party</th><th>Incidents</th><th>Violations</th></tr>
{{range $i, $c := .Summary.ViolationsByParty}}<tr><td>{{$c.Key}}</td><td class="n">{{(index $.Summary.IncidentsByParty $i).Count}}</td><td class="n">{{$c.Count}}</td></tr>
{{end}}<tr><th>total</th><td class="n">{{.Summary.Incidents}}</td><td class="n">{{.Summary.Violations}}</td></tr>
</table>

<h2>Map</h2>
{{if .MapSVG}}{{.MapSVG}}
<p class="note">Sectors by level:{{range .Levels}}<span class="swatch" style="background: {{.Colour}}"></span>{{.Label}}{{end}}.
Incidents by attribution:{{range .Parties}}<span class="swatch" style="background: {{.Colour}}"></span>{{.Label}}{{end}}.
Black: the line of contact; dashed: zones.{{with .Map}} {{.Incidents}} incidents of the day{{if .Aggregated}}, aggregated into {{.Dots}} cells{{end}}{{if .Outside}}; {{.Outside}} beyond the map's edge not drawn{{end}}.{{end}}</p>
{{else}}<p class="note">No map: this report was not built from an agreement.</p>{{end}}

<h2>Violations by sector</h2>
{{range .Sectors}}<h3>{{.Name}}{{if .Sector}} ({{.Sector}}){{end}}: {{.Violations}} violation(s)</h3>
<p>By party: {{counts .ByParty}}.</p>
{{if .Violations}}<table>
<tr><th>Category</th><th>Violations</th></tr>
{{range .ByCategory}}<tr><td>{{.Key}}</td><td class="n">{{.Count}}</td></tr>
{{end}}</table>
<table>
<tr><th>Weapon class</th><th>Violations</th></tr>
{{range .ByWeapon}}<tr><td>{{.Key}}</td><td class="n">{{.Count}}</td></tr>
{{end}}</table>
<table>
<tr><th>Rule</th><th>Violations</th></tr>
{{range .ByRule}}<tr><td>{{.Key}}</td><td class="n">{{.Count}}</td></tr>
{{end}}</table>
{{end}}{{end}}

<h2>Sector levels at {{.CutoffDTG}}</h2>
<table>
<tr><th>Sector</th><th>Level</th><th>Since</th><th>Scores</th></tr>
{{range .Report.Levels}}<tr><td>{{.Name}}</td><td><span class="level" style="background: {{level .Level}}">{{.Level}}</span></td><td>{{.SinceDTG}}</td><td>{{scores .Scores}}</td></tr>
{{end}}</table>
<h3>Escalation timeline</h3>
{{if .Timeline}}<table>
<tr><th>DTG</th><th>Sector</th><th>From</th><th>To</th><th>Scores</th></tr>
{{range .Timeline}}<tr><td>{{.DTG}}</td><td>{{sector $.Report .Sector}}</td><td>{{.From}}</td><td>{{.To}}</td><td>{{scores .Scores}}</td></tr>
{{end}}</table>{{else}}<p>No sector changed level.</p>{{end}}

<h2>Weapons in violation of withdrawal lines</h2>
{{if .Withdrawal}}<table>
<tr><th>DTG</th><th>Lat</th><th>Lon</th><th>MGRS</th><th>Weapon class</th><th>Count</th><th>Zone</th><th>Party</th><th>Likelihood</th><th>Explanation</th></tr>
{{range .Withdrawal}}<tr><td>{{.DTG}}</td><td class="n">{{coord .Lat}}</td><td class="n">{{coord .Lon}}</td><td>{{dash .MGRS}}</td><td>{{.Weapon}}</td><td class="n">{{.Count}}</td><td>{{.ZoneName}}</td><td>{{.Party}}</td><td>{{.Likelihood}}</td><td>{{.Explanation}}</td></tr>
{{end}}</table>{{else}}<p>None seen.</p>{{end}}

<h2>Windows of silence</h2>
{{if .Windows}}<table>
<tr><th>Window</th><th>From</th><th>Until</th><th>Status</th><th>Breaches</th></tr>
{{range .Windows}}<tr><td>{{.Name}}</td><td>{{.FromDTG}}</td><td>{{dash .UntilDTG}}</td><td>{{.Status}}</td><td>{{range $i, $b := .Breaches}}{{if $i}}, {{end}}{{$b}}{{else}}—{{end}}</td></tr>
{{end}}</table>{{else}}<p>None in force.</p>{{end}}

<h2>Restrictions of the monitors' freedom of movement</h2>
{{if .Restrictions}}<table>
<tr><th>DTG</th><th>Lat</th><th>Lon</th><th>Sector</th><th>Party</th><th>Explanation</th></tr>
{{range .Restrictions}}<tr><td>{{.DTG}}</td><td class="n">{{coord .Lat}}</td><td class="n">{{coord .Lon}}</td><td>{{sector $.Report .Sector}}</td><td>{{.Party}}</td><td>{{.Explanation}}</td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}

<h2>Seven-day trend</h2>
{{.TrendSVG}}
<p class="note">Violations per day, stacked by party:{{range .Parties}}<span class="swatch" style="background: {{.Colour}}"></span>{{.Label}}{{end}}.</p>

{{with .Commitments}}<h2>Commitments</h2>
<p>{{.Pledges}} pledges from {{.Nations}} nations. Gaps at stage {{.Stage}}: what counts is the standing pledges at that stage or past it, and contingent pledges once their activation is acknowledged.</p>
{{if .Requirements}}<table>
<tr><th>Requirement</th><th>Capability</th><th>Needed</th><th>Pledged</th><th>Missing</th><th>Contingent</th><th>Unit</th></tr>
{{range .Requirements}}<tr{{if not .Covered}} class="missing"{{end}}><td>{{.ID}}</td><td>{{.Capability}}</td><td class="n">{{qty .Needed}}</td><td class="n">{{qty .Pledged}}</td><td class="n">{{qty .Missing}}</td><td class="n">{{qty .Contingent}}</td><td>{{.Unit}}</td></tr>
{{end}}</table>{{else}}<p>No requirements.</p>{{end}}
<h3>Awaiting approval</h3>
{{if .AwaitingApproval}}<table>
<tr><th>Pledge</th><th>Nation</th><th>Quantity</th><th>Unit</th><th>Capability</th><th>Stage</th><th>Body</th></tr>
{{range .AwaitingApproval}}<tr><td>{{.Pledge}}</td><td>{{.Nation}}</td><td class="n">{{qty .Quantity}}</td><td>{{.Unit}}</td><td>{{.Capability}}</td><td>{{.Stage}}</td><td>{{.Body}}</td></tr>
{{end}}</table>{{else}}<p>None.</p>{{end}}
<h3>Contingent pledges activated</h3>
{{if .Activations}}<table>
<tr><th>Nation</th><th>Pledge</th><th>Trigger</th><th>Fired</th><th>Due</th><th>Status</th></tr>
{{range .Activations}}<tr{{if .Overdue}} class="overdue"{{end}}><td>{{.Nation}}</td><td>{{.Pledge}}</td><td>{{.Trigger}}</td><td>{{.AtDTG}}</td><td>{{.DueDTG}}</td><td>{{if .Overdue}}<strong>overdue</strong>{{else}}{{.Status}}{{end}}</td></tr>
{{end}}</table>{{else}}<p>None: no trigger fired on the day.</p>{{end}}
<h3>Long-term support</h3>
<table>
<tr><th>Type</th><th>Records</th><th>Value (EUR)</th><th>Allocated (EUR)</th><th>Delivered (EUR)</th></tr>
{{range .Support.ByType}}<tr><td>{{.Type}}</td><td class="n">{{.Records}}</td><td class="n">{{qty .ValueEUR}}</td><td class="n">{{qty .AllocatedEUR}}</td><td class="n">{{qty .DeliveredEUR}}</td></tr>
{{end}}{{with .Support.All}}<tr><th>total</th><td class="n">{{.Records}}</td><td class="n">{{qty .ValueEUR}}</td><td class="n">{{qty .AllocatedEUR}}</td><td class="n">{{qty .DeliveredEUR}}</td></tr>{{end}}
</table>{{end}}

{{with .Checkpoint}}<h2>The record</h2>
<p>Made from the journal at checkpoint {{.Size}} of the evidence log {{.Origin}} (root <code>{{.Root}}</code>). Check that the record still stands with <code>truce verify</code>; the signed checkpoint:</p>
<pre class="checkpoint">{{.Note}}</pre>{{end}}

<p class="note">Times are UTC; DTG is DDHHMMZ MON YY. Confidence in estimative language: almost certain (90 % and above), likely (55 % to 90 %), roughly even chance (45 % to 55 %), unlikely (20 % to 45 %), remote (below 20 %).</p>
</body>
</html>
`

func levelOf(s string) truce.Level { return truce.Level(s) }
