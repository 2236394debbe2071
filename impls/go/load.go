package main

// Raw channel traffic, the same as scenarios/src/load.rs: every producer
// sends a fixed share of the messages (as the field's channel benchmarks
// do), consumers share one channel until it closes, and only the traffic is
// timed. Each consumer tallies in O(1) per message (a count and the next
// sequence number per producer, and a sum of mixed stamps); the oracle
// compares the tallies with what was sent after the clock stops.

import (
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"sync"
	"time"
)

const (
	// closedLoopSample times one message in this many of each producer in
	// the closed loop.
	closedLoopSample = 8
	// untimed marks a message that carries no send time.
	untimed = math.MaxUint64
	// sleepAbove is the wait beyond which an open-loop producer sleeps
	// (until sleepMargin before its due time) instead of yielding. Go's
	// timers round short sleeps up towards a millisecond on Linux, so these
	// are the Rust async side's thresholds, not its threads' 200/100 µs.
	sleepAbove  = 2 * time.Millisecond
	sleepMargin = time.Millisecond
	// idleGap is how long each producer of an idle load sleeps before each
	// message, as on the Rust side.
	idleGap = time.Millisecond
	// mostIdleItems is the most messages an idle load takes, as on the
	// Rust side: ten minutes of gaps.
	mostIdleItems = 600_000
	// maxLatency is the histogram's highest trackable value (60 s).
	maxLatency = 60_000_000_000
)

// The messages, one type per size, sent by value as in Rust.
type (
	msg0   struct{}
	msg8   struct{ stamp uint64 }
	msg16  struct{ stamp, at uint64 }
	msg256 struct {
		stamp, at uint64
		_         [240]byte
	}
	msg4096 struct {
		stamp, at uint64
		_         [4080]byte
	}
)

func runLoad(spec LoadSpec) (Outcome, error) {
	if spec.Producers < 1 || spec.Consumers < 1 || spec.Items < 1 {
		return Outcome{}, refused("a load needs at least one producer, one consumer and one item")
	}
	timed := spec.Measure.Mode == "closed-loop" || spec.Measure.Mode == "open-loop"
	if timed && spec.MessageBytes < 16 {
		return Outcome{}, refused("a timed load needs messages of at least 16 bytes")
	}
	switch spec.MessageBytes {
	case 0:
		return load(spec, func(uint64, uint64) msg0 { return msg0{} }, func(msg0) (uint64, uint64) { return 0, untimed })
	case 8:
		return load(spec, func(s, _ uint64) msg8 { return msg8{s} }, func(m msg8) (uint64, uint64) { return m.stamp, untimed })
	case 16:
		return load(spec, func(s, at uint64) msg16 { return msg16{s, at} }, func(m msg16) (uint64, uint64) { return m.stamp, m.at })
	case 256:
		return load(spec, func(s, at uint64) msg256 { return msg256{stamp: s, at: at} }, func(m msg256) (uint64, uint64) { return m.stamp, m.at })
	case 4096:
		return load(spec, func(s, at uint64) msg4096 { return msg4096{stamp: s, at: at} }, func(m msg4096) (uint64, uint64) { return m.stamp, m.at })
	default:
		return Outcome{}, refused("message size %d is not one of 0, 8, 16, 256, 4096", spec.MessageBytes)
	}
}

// load runs spec with messages of type M, made by build and read by read.
func load[M any](spec LoadSpec, build func(stamp, at uint64) M, read func(M) (stamp, at uint64)) (Outcome, error) {
	capacity, err := spec.Capacity.size()
	if err != nil {
		return Outcome{}, err
	}
	var interval float64
	switch spec.Measure.Mode {
	case "throughput", "closed-loop":
	case "idle":
		if spec.Items > mostIdleItems {
			return Outcome{}, refused("an idle load takes at most %d messages, one every %v per producer", mostIdleItems, idleGap)
		}
	case "open-loop":
		if !(spec.Measure.Rate >= 1) || math.IsInf(spec.Measure.Rate, 0) {
			return Outcome{}, refused("an open-loop rate must be at least 1 message per second")
		}
		interval = 1e9 / spec.Measure.Rate
	default:
		return Outcome{}, refused("unknown measure %q", spec.Measure.Mode)
	}
	stamped := spec.MessageBytes > 0
	timedMode := spec.Measure.Mode == "closed-loop" || spec.Measure.Mode == "open-loop"
	idle := spec.Measure.Mode == "idle"
	items := spec.Items
	ch := make(chan M, capacity)

	// Everything the consumers keep is allocated before the clock starts,
	// as on the Rust side.
	tallies := make([]*tally, spec.Consumers)
	latencies := make([][]uint64, spec.Consumers)
	for c := range tallies {
		tallies[c] = newTally(spec.Producers)
		if timedMode {
			latencies[c] = make([]uint64, histogramBuckets)
		}
	}
	sentBy := make([]uint64, spec.Producers)

	var ready, producers, consumers sync.WaitGroup
	begin := make(chan struct{})
	var start time.Time
	since := func() uint64 { return uint64(time.Since(start).Nanoseconds()) }
	for p := 0; p < spec.Producers; p++ {
		ready.Add(1)
		producers.Add(1)
		go func(p int) {
			defer producers.Done()
			ready.Done()
			<-begin
			sent := share(items, spec.Producers, p)
			for seq := 0; seq < sent; seq++ {
				at := uint64(untimed)
				switch {
				case idle:
					time.Sleep(idleGap)
				case interval > 0:
					// The producers take turns on one schedule.
					due := uint64(float64(seq*spec.Producers+p) * interval)
					for {
						now := since()
						if now >= due {
							break
						}
						if wait := time.Duration(due - now); wait > sleepAbove {
							time.Sleep(wait - sleepMargin)
						} else {
							runtime.Gosched()
						}
					}
					at = due
				case timedMode && seq%closedLoopSample == 0:
					at = since()
				}
				ch <- build(stamp(uint64(p), uint64(seq)), at)
			}
			sentBy[p] = uint64(sent)
		}(p)
	}
	for c := 0; c < spec.Consumers; c++ {
		ready.Add(1)
		consumers.Add(1)
		go func(c int) {
			defer consumers.Done()
			ready.Done()
			// Each consumer tallies into its own record, so consumers
			// share no cache line per message.
			got, histogram := tallies[c], latencies[c]
			<-begin
			for m := range ch {
				id, at := read(m)
				if at != untimed {
					now := since()
					latency := uint64(1)
					if now > at {
						latency = now - at
					}
					if latency > maxLatency {
						latency = maxLatency
					}
					histogram[histogramIndex(latency)]++
				}
				got.count++
				if stamped {
					got.take(id)
				}
			}
		}(c)
	}
	ready.Wait()
	before := usage()
	start = time.Now()
	close(begin)
	// The channel closes when the last producer is done, as when the last
	// Rust sender drops.
	producers.Wait()
	close(ch)
	consumers.Wait()
	elapsed := time.Since(start)
	cpu := usage().since(before)

	// The oracle, after the clock.
	counts := make([]uint64, spec.Consumers)
	var total uint64
	for c, got := range tallies {
		counts[c] = got.count
		total += got.count
	}
	if total != uint64(items) {
		return Outcome{}, fmt.Errorf("%d of %d messages received", total, items)
	}
	if stamped {
		if err := checkTallies(sentBy, tallies); err != nil {
			return Outcome{}, err
		}
	}
	outcome := Outcome{
		Items:      uint64(items),
		Elapsed:    elapsed,
		CPU:        cpu,
		Threads:    threads(),
		SentBy:     sentBy,
		ReceivedBy: counts,
	}
	if timedMode {
		outcome.Latency = [][2]uint64{}
		for index := 0; index < histogramBuckets; index++ {
			var n uint64
			for _, histogram := range latencies {
				n += histogram[index]
			}
			if n > 0 {
				outcome.Latency = append(outcome.Latency, [2]uint64{histogramValue(index), n})
			}
		}
	}
	return outcome, nil
}

// The latency histogram is a flat array, allocated before the clock like
// the Rust side's HdrHistogram: values below 2048 ns exactly, then 1024
// sub-buckets per power of two (3 significant digits), up to maxLatency.
const (
	subBucketBits    = 11
	histogramBuckets = (64-subBucketBits)*(1<<(subBucketBits-1)) + (1 << subBucketBits)
)

// histogramIndex is value's bucket.
func histogramIndex(value uint64) int {
	shift := bits.Len64(value) - subBucketBits
	if shift <= 0 {
		return int(value)
	}
	return shift<<(subBucketBits-1) + int(value>>shift)
}

// histogramValue is the lowest value of bucket index.
func histogramValue(index int) uint64 {
	if index < 1<<subBucketBits {
		return uint64(index)
	}
	shift := index>>(subBucketBits-1) - 1
	offset := index - shift<<(subBucketBits-1)
	return uint64(offset) << shift
}

// tally is what one consumer saw, kept in O(1) per message.
type tally struct {
	count uint64
	// from holds, per producer, the messages received from it and the
	// sequence number the next one must reach.
	from []struct{ count, next uint64 }
	// digest is the wrapping sum of mix64 over every stamp received.
	digest uint64
	// outOfOrder is the first stamp that broke its producer's order, and
	// the sequence number it should have reached.
	outOfOrder, shouldReach uint64
	broken                  bool
	// unknown is the first stamp naming a producer that does not exist.
	unknown    uint64
	hasUnknown bool
}

func newTally(producers int) *tally {
	return &tally{from: make([]struct{ count, next uint64 }, producers)}
}

// take records message id.
func (t *tally) take(id uint64) {
	t.digest += mix64(id)
	p := sourceOf(id)
	if p >= uint64(len(t.from)) {
		if !t.hasUnknown {
			t.unknown, t.hasUnknown = id, true
		}
		return
	}
	from := &t.from[p]
	seq := id & 0xFFFF_FFFF
	if seq < from.next && !t.broken {
		t.outOfOrder, t.shouldReach, t.broken = id, from.next, true
	}
	from.next = seq + 1
	from.count++
}

// checkTallies compares the consumers' tallies with what each producer
// sent, as load.rs's check_tallies does.
func checkTallies(sentBy []uint64, tallies []*tally) error {
	for c, got := range tallies {
		if got.hasUnknown {
			return fmt.Errorf("consumer %d: %#x was delivered but never sent (no producer %d)", c, got.unknown, sourceOf(got.unknown))
		}
		if got.broken {
			return fmt.Errorf("consumer %d: %#x arrived after message %d of producer %d (a message delivered twice, or out of order)", c, got.outOfOrder, got.shouldReach-1, sourceOf(got.outOfOrder))
		}
	}
	var want, have uint64
	for p, sent := range sentBy {
		var arrived uint64
		for _, got := range tallies {
			arrived += got.from[p].count
		}
		if arrived != sent {
			return fmt.Errorf("producer %d: %d messages sent, %d received", p, sent, arrived)
		}
		for seq := uint64(0); seq < sent; seq++ {
			want += mix64(stamp(uint64(p), seq))
		}
	}
	for _, got := range tallies {
		have += got.digest
	}
	if have != want {
		return fmt.Errorf("as many messages arrived from each producer as it sent, but not the same ones: at least one was lost and another delivered twice in its place")
	}
	return nil
}
