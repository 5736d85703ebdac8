package feed

import (
	"slices"
	"testing"
)

type entry struct{ Seq uint64 }

func entries(from, to uint64) []entry {
	var es []entry
	for s := from; s < to; s++ {
		es = append(es, entry{Seq: s})
	}
	return es
}

// recv takes every entry buffered on s without waiting; ok is false when
// C is closed.
func recv(s *Subscription[entry]) (seqs []uint64, open bool) {
	for {
		select {
		case batch, ok := <-s.C:
			if !ok {
				return seqs, false
			}
			for _, e := range batch {
				seqs = append(seqs, e.Seq)
			}
		default:
			return seqs, true
		}
	}
}

func TestFeed(t *testing.T) {
	f := New[entry]()
	fast, slow := f.Subscribe(100), f.Subscribe(2) // buffers of commits
	if f.Len() != 2 {
		t.Fatalf("len: got %d, want 2", f.Len())
	}
	f.Publish(entries(1, 3))
	got, open := recv(slow)
	if want := []uint64{1, 2}; !slices.Equal(got, want) || !open {
		t.Errorf("slow: got %v, open %v, want %v, open", got, open, want)
	}
	f.Publish(entries(3, 6)) // two commits fit slow's buffer
	f.Publish(entries(6, 8))
	if slow.Lost() {
		t.Errorf("slow: Lost() = true with its buffer just full")
	}
	f.Publish(entries(8, 9)) // slow is full: dropped
	if !slow.Lost() {
		t.Errorf("slow: Lost() = false after its buffer filled")
	}
	got, open = recv(slow)
	if want := []uint64{3, 4, 5, 6, 7}; !slices.Equal(got, want) || open {
		t.Errorf("slow after overflow: got %v, open %v, want %v then closed", got, open, want)
	}
	f.Publish(entries(9, 10))
	f.Publish(nil) // nothing to publish: no one hears of it
	got, open = recv(fast)
	if want := entrySeqs(1, 10); !slices.Equal(got, want) || !open {
		t.Errorf("fast: got %v, open %v, want %v, open", got, open, want)
	}
	if fast.Lost() {
		t.Errorf("fast: Lost() = true")
	}
	if f.Len() != 1 {
		t.Errorf("len after drop: got %d, want 1", f.Len())
	}

	gone := f.Subscribe(1)
	gone.Close()
	gone.Close() // twice is fine
	if _, open := recv(gone); open || gone.Lost() {
		t.Errorf("closed subscription: open %v, lost %v, want closed, not lost", open, gone.Lost())
	}

	f.Close()
	if _, open := recv(fast); open || fast.Lost() {
		t.Errorf("after feed Close: open %v, lost %v, want closed, not lost", open, fast.Lost())
	}
	late := f.Subscribe(5)
	if _, open := recv(late); open {
		t.Errorf("subscription after Close: still open")
	}
	f.Publish(entries(10, 12)) // no one to send to; must not panic
	fast.Close()
	if f.Len() != 0 {
		t.Errorf("len after Close: got %d, want 0", f.Len())
	}
}

func entrySeqs(from, to uint64) []uint64 {
	var s []uint64
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}
