// Package feed fans values out to live subscribers without ever blocking
// the publisher: each subscriber has a bounded buffer, and one that falls
// behind is dropped and told so. journal.Feed carries committed journal
// entries; the engine's feed carries its judgements.
package feed

import (
	"sync"
	"sync/atomic"
)

// Feed fans batches of values (such as committed journal entries) out to
// live subscribers, a batch at a time.
// Publishing never blocks and copies nothing: each subscriber is handed the
// same slice, and one whose buffer of commits is full is dropped and told
// so (Lost), so that a slow reader never slows the journal; it resumes by
// reading the journal from the last entry it saw. A Feed is safe for
// concurrent use.
type Feed[T any] struct {
	mu     sync.Mutex
	subs   map[*Subscription[T]]struct{}
	closed bool
}

// New returns a feed with no subscribers.
func New[T any]() *Feed[T] { return &Feed[T]{subs: map[*Subscription[T]]struct{}{}} }

// Subscription receives the commits published after it was made, in order,
// on C: each a slice of entries that it must not modify. C is closed when the subscription ends: by Close, by the feed's
// Close, or because the subscriber fell more than its buffer behind (then
// Lost reports true).
type Subscription[T any] struct {
	C    <-chan []T
	c    chan []T
	f    *Feed[T]
	lost atomic.Bool
}

// Subscribe returns a subscription buffering up to buffer commits.
func (f *Feed[T]) Subscribe(buffer int) *Subscription[T] {
	c := make(chan []T, max(buffer, 1))
	s := &Subscription[T]{C: c, c: c, f: f}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		close(c)
		return s
	}
	f.subs[s] = struct{}{}
	return s
}

// Publish hands one commit's entries to every subscriber without waiting.
// The feed keeps entries: the caller must not modify them afterwards.
func (f *Feed[T]) Publish(entries []T) {
	if len(entries) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		select {
		case s.c <- entries:
		default:
			s.lost.Store(true)
			delete(f.subs, s)
			close(s.c)
		}
	}
}

// Len returns the number of subscribers.
func (f *Feed[T]) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// Close ends every subscription; later ones end at once.
func (f *Feed[T]) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for s := range f.subs {
		delete(f.subs, s)
		close(s.c)
	}
}

// Lost reports whether the subscription ended because its reader fell
// behind: entries were published that it did not receive.
func (s *Subscription[T]) Lost() bool { return s.lost.Load() }

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription[T]) Close() {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	if _, ok := s.f.subs[s]; ok {
		delete(s.f.subs, s)
		close(s.c)
	}
}
