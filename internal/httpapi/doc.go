// Package httpapi is truce's HTTP JSON API: the routes under /api/v1, bearer
// token authentication and the role checks of each route, the mapping of
// errors to status codes (statusOf, the only one), the Server-Sent Events
// stream of the journal and of the engine's judgements (incidents,
// violations, sector levels), the OpenAPI 3.1 document that describes all of it
// (openapi.json, embedded and served at /api/v1/openapi.json), and the
// operational endpoints /healthz, /readyz and /metrics.
//
// What it guarantees:
//   - Every read is filtered by the caller's organisation and role: the
//     store filters observations (truce.Principal.CanSee) and the stream
//     filters journal entries the same way. A record the caller may not see
//     is answered as not found, never listed and never streamed. An
//     incident, and its violations, is seen only by a caller who may see
//     every one of its observations (engine.Visible); sector levels and the
//     trigger are TLP:GREEN.
//   - The judgement routes (incidents, violations, sectors) read the
//     engine of Config.Engine, and answer 503 when there is none (no
//     agreement loaded).
//   - Windows of silence (/api/v1/windows) are read from the journal: the
//     engine's windows brought up to the journal's head, so that a window
//     is seen as soon as the request that journaled it is answered. A
//     request or acknowledgement reads the window and journals its new
//     state as one step (under one lock), so that no acknowledgement is
//     lost to another made at the same time.
//   - A POST of observations is all or nothing as far as the journal is
//     concerned: the whole body is decoded first and the valid observations
//     are then written by one store.Append. A body that is too large, that
//     cannot be read to its end (the client went away) or that is not of its
//     content type at all commits nothing. The response is sent only once
//     the commit is durable.
//   - The stream sends each entry at most once and without gaps: it replays
//     the journal from the client's Last-Event-ID and then follows the live
//     journal.Feed. A client that falls behind is dropped by the feed (so it
//     never slows ingest) and told so with an "event: lost" naming the last
//     entry it was sent; it reconnects from there. The engine's events
//     (Config.Events) are sent beside the journal's without ids, so that
//     Last-Event-ID always names a journal entry; a stream that resumes gets
//     the current state of every incident changed since, and a stream that
//     falls behind the engine's events is told to resume from the last
//     entry whose events it got.
//   - Time comes from Config.Now; the package never reads the clock itself.
//
// Every error body is JSON, {"error": "..."}; internal errors are logged
// with an error id that the body carries too, and their detail is not sent.
//
// A Server is safe for concurrent use. Shutting it down is the caller's
// job: http.Server.Shutdown, after closing the Feed so that streams end.
package httpapi
