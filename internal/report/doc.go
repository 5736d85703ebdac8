// Package report writes the daily report of a ceasefire's monitoring, in
// the tradition of the OSCE Special Monitoring Mission to Ukraine's daily
// reports: what the monitors recorded on one day, as of a cut-off time.
//
// Build turns an Input (the agreement, the day, and the incidents, levels
// and windows of silence the caller gathered from the engine and the
// journal) into a Report; JSON, Markdown and HTML write it out. A report
// holds:
//
//   - a summary: the day's incidents and violations, by party and
//     undetermined, with the confidence in estimative language (almost
//     certain, likely, roughly even chance, unlikely, remote);
//   - a table per sector of the day's violations by category and weapon
//     class;
//   - the sector alert levels at the cut-off and the day's escalation
//     timeline;
//   - weapons seen in violation of withdrawal lines (rule withdrawal), with
//     the time as a NATO date-time group, lat/lon to four decimals, the
//     weapon class, zone, party and the explanation of the judgement;
//   - windows of silence and whether they held: a window is broken when a
//     window_of_silence violation names the window's id in its Zone;
//   - restrictions of the monitors' freedom of movement;
//   - a seven-day trend of violations per day and party;
//   - when Input.Commitments is set, the coalition's commitments: per
//     requirement what is needed, pledged (counted at the gaps' stage),
//     missing and contingent; the pledges awaiting a body's approval; the
//     day's activations of contingent pledges, acknowledged or overdue as
//     of the cut-off; and the totals of long-term support by type. The
//     gaps are the caller's (the journal when the report is made); only
//     the activations are cut to the day;
//   - a map (HTML only): the line, sectors filled by alert level, zones
//     outlined and the day's incidents as dots coloured by attribution, in
//     an equirectangular projection of the agreement's bounding box.
//
// Conventions: every time is UTC and is shown also as a NATO date-time
// group, DDHHMMZ MON YY (DTG). The day runs from Input.Date (UTC midnight)
// to the cut-off; incidents the review dismissed are left out. Output is
// deterministic: everything is sorted and nothing reads the clock.
//
// The HTML is self-contained: inline CSS and inline SVG, no scripts and no
// network references, so it opens from disk. When more than MaxDots of the
// day's incidents would be drawn, the map aggregates them into square cells
// (AggregateCell pixels, doubled until at most MaxCells dots remain), one
// dot per cell and party sized by the count, so the SVG stays small
// whatever the day's volume. Incidents beyond the agreement's bounding box
// are counted (MapInfo.Outside) but not drawn.
//
// Withdrawal sightings give their position as latitude and longitude and
// as an MGRS grid reference (geo.MGRS, checked against GDAL).
//
// The PDF form and the gathering of the Input from a database are in
// internal/cli (`truce report`, `truce demo`): headless Chromium prints the
// HTML.
package report
