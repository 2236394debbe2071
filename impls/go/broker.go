package main

// Pub/sub and singleflight: the two patterns that keep a registry under a
// lock, as in scenarios/src/patterns/{pub_sub,singleflight}.rs.

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// policy is what a publisher does when a subscriber's buffer is full.
type policy int

const (
	block policy = iota
	dropNewest
	dropOldest
)

type subscription struct {
	topic   int
	policy  policy
	ch      chan uint64
	dropped atomic.Uint64
}

// broker maps topics to their subscriptions; publish delivers outside the
// lock, to a copy of the list.
type broker struct {
	mu     sync.Mutex
	topics map[int][]*subscription
	all    []*subscription
}

func (b *broker) subscribe(topic int, p policy, capacity int) *subscription {
	s := &subscription{topic: topic, policy: p, ch: make(chan uint64, capacity)}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.topics[topic] = append(b.topics[topic], s)
	b.all = append(b.all, s)
	return s
}

func (b *broker) unsubscribe(s *subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	list := b.topics[s.topic]
	for i, other := range list {
		if other == s {
			b.topics[s.topic] = append(list[:i:i], list[i+1:]...)
			return
		}
	}
}

func (b *broker) publish(topic int, value uint64) {
	b.mu.Lock()
	list := append([]*subscription(nil), b.topics[topic]...)
	b.mu.Unlock()
	for _, s := range list {
		switch s.policy {
		case block:
			s.ch <- value
		case dropNewest:
			select {
			case s.ch <- value:
			default:
				s.dropped.Add(1)
			}
		case dropOldest:
			for sent := false; !sent; {
				select {
				case s.ch <- value:
					sent = true
				default:
					select {
					case <-s.ch:
						s.dropped.Add(1)
					default:
					}
				}
			}
		}
	}
}

// close ends every subscription, once no publisher is left.
func (b *broker) close() {
	for _, s := range b.all {
		close(s.ch)
	}
}

// pubSub: P topics, one publisher each; W subscribers per topic with the
// policies in turn, and a quitter that leaves half-way.
func pubSub(p Params) (result, error) {
	capacity, err := p.Capacity.size()
	if err != nil {
		return result{}, err
	}
	work := p.Work.duration()
	policies := []policy{block, dropNewest}
	if capacity > 0 {
		policies = append(policies, dropOldest)
	}
	b := &broker{topics: map[int][]*subscription{}}
	type tally struct {
		s     *subscription
		got   []uint64
		after int // a quitter's messages after it unsubscribed
		half  int // how many a quitter waits for before it leaves
		quits bool
	}
	var tallies []*tally
	var subscribers sync.WaitGroup
	for t := 0; t < p.Producers; t++ {
		published := share(p.Items, p.Producers, t)
		for w := 0; w < p.Workers; w++ {
			tl := &tally{s: b.subscribe(t, policies[w%len(policies)], capacity)}
			tallies = append(tallies, tl)
			subscribers.Add(1)
			go func() {
				defer subscribers.Done()
				var got []uint64
				for v := range tl.s.ch {
					if tl.s.policy != block {
						busy(work)
					}
					got = append(got, v)
				}
				tl.got = got
			}()
		}
		quitter := &tally{s: b.subscribe(t, block, capacity), quits: true}
		tallies = append(tallies, quitter)
		subscribers.Add(1)
		go func() {
			defer subscribers.Done()
			half := (published + 1) / 2
			var got []uint64
			for len(got) < half {
				v, ok := <-quitter.s.ch
				if !ok {
					break
				}
				got = append(got, v)
			}
			b.unsubscribe(quitter.s)
			before := len(got)
			for v := range quitter.s.ch {
				got = append(got, v)
			}
			quitter.got, quitter.after, quitter.half = got, len(got)-before, half
		}()
	}
	var publishers sync.WaitGroup
	for t := 0; t < p.Producers; t++ {
		publishers.Add(1)
		go func(t int) {
			defer publishers.Done()
			for seq := 0; seq < share(p.Items, p.Producers, t); seq++ {
				b.publish(t, stamp(uint64(t), uint64(seq)))
			}
		}(t)
	}
	publishers.Wait()
	b.close()
	subscribers.Wait()

	var delivered, dropped uint64
	for _, tl := range tallies {
		published := share(p.Items, p.Producers, tl.s.topic)
		received := len(tl.got)
		delivered += uint64(received)
		dropped += tl.s.dropped.Load()
		for i, id := range tl.got {
			if int(sourceOf(id)) != tl.s.topic {
				return result{}, fmt.Errorf("a subscriber of topic %d got message %#x of another topic", tl.s.topic, id)
			}
			if i > 0 && id <= tl.got[i-1] {
				return result{}, fmt.Errorf("topic %d: message %#x after %#x", tl.s.topic, id, tl.got[i-1])
			}
		}
		switch {
		case tl.quits:
			// Everything it got, before leaving and after, is the exact
			// prefix of what was published, and it stayed for half.
			if received-tl.after < tl.half {
				return result{}, fmt.Errorf("topic %d's quitter got %d before leaving, not %d", tl.s.topic, received-tl.after, tl.half)
			}
			for i, id := range tl.got {
				if id != stamp(uint64(tl.s.topic), uint64(i)) {
					return result{}, fmt.Errorf("topic %d's quitter missed message %d", tl.s.topic, i)
				}
			}
			if tl.after > capacity+1 {
				return result{}, fmt.Errorf("topic %d's quitter got %d messages after leaving (capacity %d)", tl.s.topic, tl.after, capacity)
			}
		case tl.s.policy == block && received != published:
			return result{}, fmt.Errorf("a blocking subscriber of topic %d got %d of %d", tl.s.topic, received, published)
		case tl.s.policy != block && uint64(received)+tl.s.dropped.Load() != uint64(published):
			return result{}, fmt.Errorf("a dropping subscriber of topic %d: %d received + %d dropped != %d", tl.s.topic, received, tl.s.dropped.Load(), published)
		case tl.s.policy == dropOldest && published > 0 && (received == 0 || tl.got[received-1] != stamp(uint64(tl.s.topic), uint64(published-1))):
			return result{}, fmt.Errorf("a drop-oldest subscriber of topic %d lost the newest message", tl.s.topic)
		}
	}
	return result{
		items:    delivered,
		threads:  p.Producers*(p.Workers+1) + p.Producers,
		counters: map[string]uint64{"dropped": dropped},
	}, nil
}

// errOddKey is what every call for an odd key fails with.
var errOddKey = errors.New("odd keys fail")

// flight is one execution of a singleflight function.
type flight struct {
	done   sync.WaitGroup
	id     uint64
	err    error
	joined int
}

// flights is a singleflight table: concurrent calls for one key share one
// execution; the key leaves the table before the result is published.
type flights struct {
	mu    sync.Mutex
	calls map[uint64]*flight
}

func (f *flights) do(key uint64, fn func() (uint64, error)) (uint64, error, bool) {
	f.mu.Lock()
	if c, ok := f.calls[key]; ok {
		c.joined++
		f.mu.Unlock()
		c.done.Wait()
		return c.id, c.err, true
	}
	c := &flight{}
	c.done.Add(1)
	f.calls[key] = c
	f.mu.Unlock()
	c.id, c.err = fn()
	f.mu.Lock()
	delete(f.calls, key)
	shared := c.joined > 0
	f.mu.Unlock()
	c.done.Done()
	return c.id, c.err, shared
}

// singleflight: W callers call keys in turn; odd keys fail. Every result
// must be a live execution of the caller's own key.
func singleflight(p Params) (result, error) {
	work := p.Work.duration()
	keys := uint64(max(p.Producers, 2))
	table := &flights{calls: map[uint64]*flight{}}
	var clock, executions atomic.Uint64
	// A call records the execution it led, if any: its id and start. The
	// execution's end is when its leader returned, after the key left the
	// table: a call that began later must not get its result.
	type call struct {
		key, begin, end, id uint64
		failed, shared      bool
		led                 bool
		ledID, ledStart     uint64
	}
	calls := make([][]call, p.Workers)
	var callers sync.WaitGroup
	for c := 0; c < p.Workers; c++ {
		callers.Add(1)
		go func(c int) {
			defer callers.Done()
			var mine []call
			for i := 0; i < share(p.Items, p.Workers, c); i++ {
				key := uint64(i) % keys
				this := call{key: key, begin: clock.Add(1)}
				id, err, shared := table.do(key, func() (uint64, error) {
					this.led, this.ledID, this.ledStart = true, executions.Add(1)-1, clock.Add(1)
					busy(work)
					if key%2 == 1 {
						return this.ledID, errOddKey
					}
					return this.ledID, nil
				})
				this.end, this.id, this.failed, this.shared = clock.Add(1), id, err != nil, shared
				mine = append(mine, this)
			}
			calls[c] = mine
		}(c)
	}
	callers.Wait()
	// Each execution, from the call that led it; its end is that call's.
	type execution struct{ key, start, end uint64 }
	execs := map[uint64]execution{}
	for _, list := range calls {
		for _, c := range list {
			if !c.led {
				continue
			}
			if _, twice := execs[c.ledID]; twice {
				return result{}, fmt.Errorf("execution %d was led twice", c.ledID)
			}
			if c.id != c.ledID {
				return result{}, fmt.Errorf("a leader got execution %d, not its own %d", c.id, c.ledID)
			}
			execs[c.ledID] = execution{c.key, c.ledStart, c.end}
		}
	}
	takers := map[uint64]int{}
	for _, list := range calls {
		for _, c := range list {
			takers[c.id]++
		}
	}
	var sharedCalls uint64
	for _, list := range calls {
		for _, c := range list {
			e, ok := execs[c.id]
			switch {
			case !ok:
				return result{}, fmt.Errorf("a call got execution %d, which never ran", c.id)
			case e.key != c.key:
				return result{}, fmt.Errorf("a call for key %d got key %d's result", c.key, e.key)
			case c.failed != (c.key%2 == 1):
				return result{}, fmt.Errorf("a call for key %d failed=%v", c.key, c.failed)
			case e.start >= c.end || e.end <= c.begin:
				return result{}, fmt.Errorf("a call for key %d got a stale result", c.key)
			case c.shared != (takers[c.id] > 1):
				return result{}, fmt.Errorf("a call's shared flag is %v with %d takers", c.shared, takers[c.id])
			}
			if c.shared {
				sharedCalls++
			}
		}
	}
	return result{
		items:    uint64(p.Items),
		threads:  p.Workers,
		counters: map[string]uint64{"executions": executions.Load(), "shared": sharedCalls},
	}, nil
}
