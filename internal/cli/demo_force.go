package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/auth"
	"github.com/truce-dev/truce/internal/server"
	"github.com/truce-dev/truce/internal/store"
	"github.com/truce-dev/truce/internal/truce"
)

// demoPlanners are the nations whose planners file activities in the demo.
var demoPlanners = []truce.NationID{"GBR", "FRA", "POL", "DEU"}

// demoPlannerTokens makes a planner token for each demo nation.
func demoPlannerTokens(ctx context.Context, st store.Store) (map[truce.NationID]string, error) {
	out := map[truce.NationID]string{}
	for _, n := range demoPlanners {
		secret, tok, err := auth.New(rand.Reader, n, truce.OrgNation, truce.RolePlanner, "demo planner", time.Now())
		if err != nil {
			return nil, err
		}
		if err := server.CreateToken(ctx, st, tok); err != nil {
			return nil, err
		}
		out[n] = secret
	}
	return out, nil
}

// demoForce files the coalition's plans for the simulated day through the
// API — an air patrol, a lower-priority flight in its way, a land patrol
// too close to the line, a flight outside a nation's caveat — then
// activates the patrol and reports its aircraft straying from its orbit
// and back. It returns what happened, a line each.
func demoForce(ctx context.Context, base string, day time.Time, tokens map[truce.NationID]string) ([]string, error) {
	client := &http.Client{Timeout: time.Minute}
	call := func(method, path string, nation truce.NationID, body, into any) (int, error) {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(b))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+tokens[nation])
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, err
		}
		if resp.StatusCode >= 300 && resp.StatusCode != http.StatusConflict {
			return resp.StatusCode, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(data)))
		}
		return resp.StatusCode, json.Unmarshal(data, into)
	}
	f := func(x float64) *float64 { return &x }
	ll := func(lat, lon float64) api.LatLon { return api.LatLon{Lat: f(lat), Lon: f(lon)} }
	from, until := day.Add(8*time.Hour).Format(time.RFC3339), day.Add(12*time.Hour).Format(time.RFC3339)
	plan := func(nation truce.NationID, unit, domain, kind string, prio int, v api.Volume) api.ActivityRequest {
		v.From, v.Until = from, until
		return api.ActivityRequest{Nation: string(nation), Unit: unit, Domain: domain, Kind: kind, Priority: &prio, Volumes: []api.Volume{v}}
	}
	plans := []api.ActivityRequest{
		plan("GBR", "RAF Rivet 1", "air", "patrol", 4, api.Volume{Circle: &api.Circle{Center: ll(48.8, 34.2), RadiusM: f(15000)}, MinAltM: f(7000), MaxAltM: f(9000)}),
		plan("FRA", "FAF Cougar 2", "air", "flight", 2, api.Volume{Circle: &api.Circle{Center: ll(48.9, 34.4), RadiusM: f(10000)}, MinAltM: f(7500), MaxAltM: f(8500)}),
		plan("POL", "PL Engineer Patrol 3", "land", "patrol", 3, api.Volume{Corridor: &api.Corridor{Path: []api.LatLon{ll(48.55, 37.45), ll(48.45, 37.55)}, HalfWidthM: f(500)}, MinAltM: f(0), MaxAltM: f(300)}),
		plan("DEU", "Luftwaffe Air Policing 4", "air", "flight", 3, api.Volume{Circle: &api.Circle{Center: ll(48.5, 32.0), RadiusM: f(20000)}, MinAltM: f(9000), MaxAltM: f(11000)}),
	}
	var lines []string
	var patrol api.Activity
	for i, p := range plans {
		var got struct {
			api.Activity
			Error   string       `json:"error"`
			Refused api.Activity `json:"activity"`
		}
		code, err := call(http.MethodPost, "/api/v1/activities", truce.NationID(p.Nation), p, &got)
		if err != nil {
			return nil, err
		}
		a := got.Activity
		if code == http.StatusConflict {
			a = got.Refused
		}
		line := fmt.Sprintf("%s %s %s (%s): %s", p.Nation, p.Domain, p.Kind, p.Unit, a.State)
		for _, c := range a.Conflicts {
			switch truce.ConflictKind(c.Kind) {
			case truce.ConflictActivity:
				line += fmt.Sprintf("; meets activity %s (%s)", c.With, c.Rule)
			case truce.ConflictZone:
				line += fmt.Sprintf("; enters zone %s (%s)", c.With, c.Rule)
			default:
				line += fmt.Sprintf("; breaks the caveat %q (%s)", c.With, c.Rule)
			}
			if !c.Blocking {
				line += ", reported, not blocking"
			}
		}
		lines = append(lines, line)
		if i == 0 {
			patrol = a
		}
	}
	if patrol.State != string(truce.ActivityAccepted) {
		return lines, fmt.Errorf("the demo's patrol was not accepted: %+v", patrol)
	}
	var active api.Activity
	if _, err := call(http.MethodPost, "/api/v1/activities/"+patrol.ID+"/activate", "GBR", map[string]int{"version": patrol.Version}, &active); err != nil {
		return nil, err
	}
	pos := func(min int, lat, lon float64) api.Position {
		return api.Position{Unit: "RAF Rivet 1", Nation: "GBR", Domain: "air", Time: day.Add(9*time.Hour + time.Duration(min)*time.Minute).Format(time.RFC3339),
			Lat: f(lat), Lon: f(lon), AltM: f(8000)}
	}
	var res struct {
		Accepted int              `json:"accepted"`
		Alerts   []api.TrackAlert `json:"alerts"`
	}
	tracks := api.TracksRequest{Positions: []api.Position{pos(0, 48.8, 34.25), pos(1, 48.85, 34.3), pos(2, 49.05, 34.45), pos(3, 48.82, 34.22)}}
	if _, err := call(http.MethodPost, "/api/v1/tracks", "GBR", tracks, &res); err != nil {
		return nil, err
	}
	line := fmt.Sprintf("GBR activates %s and reports %d positions of RAF Rivet 1; alerts:", patrol.ID, res.Accepted)
	for i, a := range res.Alerts {
		if i > 0 {
			line += ","
		}
		line += " " + a.Kind
		if a.Kind == string(truce.AlertNonconforming) {
			line += fmt.Sprintf(" (%.1f km outside its orbit)", a.DistanceM/1000)
		}
	}
	return append(lines, line), nil
}
