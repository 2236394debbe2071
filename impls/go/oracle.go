package main

// The checks every run ends with, the same as scenarios/src/oracle.rs:
// each message exactly once, each source's messages in order.

import (
	"fmt"
	"sort"
	"sync/atomic"
	"time"
)

// stamp names message seq of source src.
func stamp(src, seq uint64) uint64 { return src<<32 | seq }

func sourceOf(id uint64) uint64 { return id >> 32 }

// mix64 is splitmix64's finalizer over stamp, as oracle.rs's mix64: sums of
// mixed stamps tell sets apart where plain sums cancel.
func mix64(stamp uint64) uint64 {
	z := stamp + 0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// share is part's share of total split over parts, the first ones taking
// the remainder.
func share(total, parts, part int) int {
	n := total / parts
	if part < total%parts {
		n++
	}
	return n
}

// stamps is every stamp sources 0..n send for items in all.
func stamps(items, sources int) []uint64 {
	all := make([]uint64, 0, items)
	for s := 0; s < sources; s++ {
		for i := 0; i < share(items, sources, s); i++ {
			all = append(all, stamp(uint64(s), uint64(i)))
		}
	}
	return all
}

// jobResult is what a worker computes for job id.
func jobResult(id uint64) uint64 { return id * 0x9E3779B97F4A7C15 }

// busy spins for work; it never sleeps.
func busy(work time.Duration) {
	if work <= 0 {
		return
	}
	start := time.Now()
	for time.Since(start) < work {
	}
}

// exactlyOnce checks got holds every expected value once and nothing else.
func exactlyOnce(expected, got []uint64) error {
	want := append(u64s(nil), expected...)
	have := append(u64s(nil), got...)
	sort.Sort(want)
	sort.Sort(have)
	for i := 1; i < len(have); i++ {
		if have[i] == have[i-1] {
			return fmt.Errorf("message %#x delivered twice", have[i])
		}
	}
	i, j := 0, 0
	for i < len(want) && j < len(have) {
		switch {
		case want[i] == have[j]:
			i++
			j++
		case want[i] < have[j]:
			return fmt.Errorf("message %#x lost", want[i])
		default:
			return fmt.Errorf("message %#x was never sent", have[j])
		}
	}
	if i < len(want) {
		return fmt.Errorf("message %#x lost (%d of %d delivered)", want[i], len(have), len(want))
	}
	if j < len(have) {
		return fmt.Errorf("message %#x was never sent", have[j])
	}
	return nil
}

// u64s sorts without reflection (sort.Slice swaps through reflect).
type u64s []uint64

func (s u64s) Len() int           { return len(s) }
func (s u64s) Less(i, j int) bool { return s[i] < s[j] }
func (s u64s) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }

// perSourceOrder checks each source's stamps rise through list.
func perSourceOrder(list []uint64) error {
	last := map[uint64]uint64{}
	for _, id := range list {
		src := sourceOf(id)
		if previous, seen := last[src]; seen && id <= previous {
			return fmt.Errorf("source %d: message %#x after %#x", src, id, previous)
		}
		last[src] = id
	}
	return nil
}

// gauge counts how many are inside a region and the most at once.
type gauge struct{ inside, most atomic.Int64 }

func (g *gauge) enter() {
	now := g.inside.Add(1)
	for {
		most := g.most.Load()
		if now <= most || g.most.CompareAndSwap(most, now) {
			return
		}
	}
}

func (g *gauge) leave() { g.inside.Add(-1) }
