// Package sim simulates a day (or any number of hours) of ceasefire
// monitoring over an agreement's geography, for demonstrations and for
// measuring fusion and attribution against a known truth.
//
// Generate draws events near the line of contact and the reports that
// describe them:
//
//   - fire across the line: the origin on one party's side, the impact on
//     the other's, at distances the weapon class allows (mortar up to 7 km,
//     artillery of 100 mm and above up to 25 km, MLRS up to 40 km);
//   - fixed acoustic sensors (CEP 60-250 m, a few seconds of time error,
//     often a direction of fire) and cameras placed a few km from the line;
//   - monitor patrols, from bases by night and nearer the line by day, that
//     hear or see fire and flares and report their position, a bearing
//     with a Gaussian error of BearingSigma degrees, a distance band
//     holding the true distance and the time to the minute;
//   - UAV (nations of the coalition) and satellite sightings of weapons,
//     most where the agreement allows them, ten inside a withdrawal zone of
//     their class, five on each party's side;
//   - party complaints sent hours later: true, exaggerated (the count
//     inflated) or false (no event behind them);
//   - a quiet morning, a moderate afternoon and an evening surge
//     (18:00-22:00 UTC, Config.Surge, 25 fire events an hour in each sector,
//     mostly heavy weapons) that drives those sectors to CRITICAL under the
//     example agreement's thresholds while the others stay CALM or TENSE;
//   - an acknowledged window of silence (10:00-14:00) for repairs at a water
//     station, broken once by fire inside its radius;
//   - a patrol stopped at a checkpoint (a restriction of movement).
//
// The scenario is a pure function of the agreement and the Config: a PCG
// generator seeded from Config.Seed drives every choice, and nothing reads
// the clock, so the same seed gives the same reports, byte for byte.
//
// Scenario.Truth holds what really happened: each event with its place,
// time, weapon, the party that did it, the origin of fire and the rules it
// breaks by construction, so that tests can score incidents (recall,
// precision, location error) and attribution. Every report names its
// event, or -1 for a false complaint. Events that no source observed are
// not kept.
//
// The package depends only on internal/agreement, internal/geo,
// internal/truce and the standard library.
package sim
