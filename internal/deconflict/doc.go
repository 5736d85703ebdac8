// Package deconflict keeps the coalition's own forces from colliding with
// each other or straying where they must not go.
//
// A Planner decides planned activities (truce.Activity): each 4D volume of
// a plan (a polygon, circle or corridor footprint, an altitude band and a
// time window) is checked against every volume of the activities that
// reserve theirs (accepted, active or nonconforming), against the
// agreement's zones closed to the plan's domain (keep-out for every
// domain, no-fly for aircraft, maritime for vessels) and against the
// nation's caveats. The rules follow ASTM F3548-21's strategic
// deconfliction: a plan may not overlap an accepted plan of higher
// priority, may overlap one of equal priority only where the agreement
// allows it, and is told of the lower-priority plans it overlaps. Two
// volumes overlap when they come within the separation margins of their
// domains (the larger of each) in time, altitude and horizontal distance.
//
// An Index (a space-time grid) narrows the candidates; exact geometry on
// the sphere (geo.Shape: S2 edge predicates over geodesic edges) decides
// each. Decisions are made one at a time and are committed to the journal
// by the caller's commit function before they take effect; Apply replays
// journaled decisions to rebuild a Planner.
//
// A Monitor judges positions reported for coalition units: a unit whose
// activity is under way and that leaves its volumes beyond the margins
// makes the activity nonconforming (and conforming again when it returns),
// a unit that enters a zone closed to its domain raises a keep-out alert,
// and two aircraft of different nations closer than the air separation
// raise a proximity alert.
//
// Gen makes deterministic synthetic plans for tests and benchmarks.
package deconflict
