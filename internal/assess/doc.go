// Package assess judges incidents against the agreement's rules and keeps
// each sector's alert level from the violations found.
//
// It owns two things: the Assessor, which turns one incident into its
// violations (each with a party held responsible, or none, and an
// explanation in words), and the Escalator, which sums each sector's
// violations over the agreement's sliding windows into CALM, TENSE,
// SERIOUS or CRITICAL and fires the renewed-aggression trigger. Both are
// deterministic functions of their input: no clock, no randomness, no
// dependence on map order. An Assessor is safe for concurrent use; an
// Escalator is not. docs/assessment.md says the same for a reader of the
// results.
//
// # Rules and severities
//
// Dismissed incidents are not judged. Every other incident is, including
// an unverified one (a party's claim alone); its explanations then say so.
// A violation's severity comes from this table; "heavy" means it is high
// when the incident's weapon class is artillery_100mm_plus, mlrs,
// heavy_mlrs, tactical_missile or combat_aircraft. The agreement's
// severity_weights weigh the grades for escalation.
//
//	| rule | severity | broken by | party held responsible |
//	|---|---|---|---|
//	| `ceasefire` | medium, high if heavy | any fire: explosion, impact, outgoing_fire, projectile, muzzle_flash, burst, shot | fire attribution (below) |
//	| `withdrawal` | medium, high if heavy | weapon_sighting (or military_presence naming a weapon) of a class a withdrawal zone lists, inside that zone | the side it stands on |
//	| `buffer` | medium, high if heavy | military_presence or weapon_sighting inside the buffer zone | the side it stands on |
//	| `disengagement` | medium, high if heavy | military_presence or weapon_sighting inside a disengagement area | the side it stands on |
//	| `airspace` | medium, high if heavy | aircraft or uav inside a no-fly zone, or over the other side of the line from a known origin | the side of its origin; else undetermined |
//	| `maritime` | medium | vessel inside a maritime zone | undetermined |
//	| `protected_site` | high | impact, explosion or damage within a protected site's radius | fire attribution |
//	| `window_of_silence` | critical | fire within an acknowledged window of silence, in its place and time | fire attribution |
//	| `freedom_of_movement` | low | restriction | the side it happened on |
//
// A violation's ID is the incident's ID, the rule and the zone joined by
// "/" (the zone part empty for ceasefire, freedom_of_movement and airspace
// across the line; the window's ID for window_of_silence). Its Sector is
// the sector at the incident's location, its Time the incident's Start.
// Zones are judged at the incident's estimated location, through an
// agreement.Index built once by New; the location's uncertainty is stated
// in explanations where it matters but does not widen a zone.
//
// # Attribution
//
// The incident's Party is found by its category, whether or not a rule is
// broken, and every violation of the incident holds that party responsible:
//
//   - Fire, and damage, by fire attribution: when the origin is known
//     (Incident.Origin), the party on whose side it lies; for outgoing_fire
//     and muzzle_flash, whose location is where the weapon fired, the party
//     on whose side that is; otherwise, when the direction the fire came
//     from is known (FireBearing), the geodesic from the location along it
//     is followed up to the weapon class's range (40 km when the class is
//     unknown or has none in the table): if it meets the line, the party
//     holding the ground 200 m beyond the first crossing; otherwise
//     undetermined. An impact on a party's side with neither origin nor
//     direction is undetermined: where a round lands does not say who
//     fired it.
//   - weapon_sighting, military_presence and restriction: the party on
//     whose side it stands (undetermined on no party's side).
//   - aircraft and uav: the side of its origin when known (Origin: a
//     launch or take-off point); otherwise undetermined. "Across the line"
//     is judged only then, since without an origin nothing says whose
//     aircraft crossed.
//   - vessel and other categories: undetermined.
//
// # Windows of silence
//
// Fire breaks an acknowledged window when its estimated location is within
// Radius of Center and its time span [Start, End] meets the window's
// Period [From, Until). Unacknowledged windows do not bind.
//
// # Escalation
//
// A sector's score in a window of duration D at time t is the sum of the
// severity weights of its violations with Time in (t-D, t]. A window's
// level is the highest whose threshold the score reaches, with hysteresis:
// once reached, a level holds until the score falls under Hysteresis times
// its threshold, so a score hovering around a threshold does not flap. The
// sector's level is the highest over its windows. When the number of
// CRITICAL sectors reaches RenewedAggressionSectors the trigger fires; it
// clears when the number falls below, and may fire again.
//
// Scores change only when a violation enters a window (at its Time) or
// leaves one (at Time+D). Advance(now) evaluates the sectors at every such
// instant in (last Advance, now], in order, so a sector that climbs and
// falls between two calls reports both changes at their own times. At
// each instant sector changes come in agreement order, then the trigger.
// A violation Set at or before the last Advance's time (a late report, or
// an update or merge of an incident) counts from then on: the next Advance
// evaluates its sector as of the last Advance's time first, and the past
// is not rewritten. So the same Set and Advance calls, in the same order,
// give the same changes; and when nothing arrives late, how often Advance
// is called and the order of Sets change nothing. Incidents whose
// violations have left every window are forgotten.
package assess
