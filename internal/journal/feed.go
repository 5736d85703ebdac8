package journal

import "github.com/truce-dev/truce/internal/feed"

// Feed fans committed entries out to live subscribers, a commit at a time
// (see package feed).
type Feed = feed.Feed[Entry]

// Subscription receives committed entries from a Feed.
type Subscription = feed.Subscription[Entry]

// NewFeed returns a feed of journal entries with no subscribers.
func NewFeed() *Feed { return feed.New[Entry]() }
