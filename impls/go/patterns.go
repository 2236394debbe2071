package main

// The Go concurrency patterns, each with the workload and oracle of its Rust
// twin in scenarios/src/patterns/. A pattern is timed end to end, its
// oracle included, as on the Rust side.

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// Limits on a pattern's parameters, as on the Rust side.
const (
	maxThreads = 1024
	maxPayload = 1 << 20
	maxWork    = time.Second
)

// result is what a pattern reports besides its timing.
type result struct {
	items    uint64
	threads  int
	counters map[string]uint64
}

var patterns = map[string]func(Params) (result, error){
	"worker-pool":       workerPool,
	"fan-out-fan-in":    fanOutFanIn,
	"pipeline":          pipeline,
	"producer-consumer": producerConsumer,
	"pub-sub":           pubSub,
	"select":            selectPattern,
	"semaphore":         semaphore,
	"errgroup":          errGroup,
	"singleflight":      singleflight,
}

func runPattern(name string, params Params) (Outcome, error) {
	pattern, ok := patterns[name]
	if !ok {
		return Outcome{}, refused("the Go reference has no %s pattern", name)
	}
	// The Rust side's limits (scenarios/src/params.rs), refused alike.
	switch {
	case params.Items < 1 || params.Workers < 1 || params.Producers < 1:
		return Outcome{}, refused("items, workers and producers must be at least 1")
	case params.Producers+params.Workers > maxThreads:
		return Outcome{}, refused("more than %d producers and workers", maxThreads)
	case params.Payload > maxPayload:
		return Outcome{}, refused("a payload above %d bytes", maxPayload)
	case params.Work.duration() > maxWork:
		return Outcome{}, refused("work above %v per item", maxWork)
	}
	var r result
	elapsed, cpu, err := timed(func() (err error) {
		r, err = pattern(params)
		return err
	})
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Items: r.items, Elapsed: elapsed, CPU: cpu, Threads: threads(), Counters: r.counters}, nil
}

// workerPool: one producer feeds jobs to W workers, which send results back.
func workerPool(p Params) (result, error) {
	capacity, err := p.Capacity.size()
	if err != nil {
		return result{}, err
	}
	work := p.Work.duration()
	jobs := make(chan uint64, capacity)
	results := make(chan uint64, capacity)
	var workers sync.WaitGroup
	for w := 0; w < p.Workers; w++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for id := range jobs {
				busy(work)
				results <- jobResult(id)
			}
		}()
	}
	go func() {
		for id := 0; id < p.Items; id++ {
			jobs <- uint64(id)
		}
		close(jobs)
	}()
	go func() {
		workers.Wait()
		close(results)
	}()
	got := make([]uint64, 0, p.Items)
	for r := range results {
		got = append(got, r)
	}
	expected := make([]uint64, p.Items)
	for id := range expected {
		expected[id] = jobResult(uint64(id))
	}
	return result{items: uint64(p.Items), threads: p.Workers + 1}, exactlyOnce(expected, got)
}

// fanOutFanIn: a source deals jobs round-robin to W workers, each with its
// own channels, and their outputs merge into one.
func fanOutFanIn(p Params) (result, error) {
	capacity, err := p.Capacity.size()
	if err != nil {
		return result{}, err
	}
	work := p.Work.duration()
	merged := make(chan uint64, capacity)
	ins := make([]chan uint64, p.Workers)
	var forwarders sync.WaitGroup
	for w := range ins {
		ins[w] = make(chan uint64, capacity)
		out := make(chan uint64, capacity)
		go func(w int, in <-chan uint64) {
			var seq uint64
			for range in {
				busy(work)
				out <- stamp(uint64(w), seq)
				seq++
			}
			close(out)
		}(w, ins[w])
		forwarders.Add(1)
		go func() {
			defer forwarders.Done()
			for v := range out {
				merged <- v
			}
		}()
	}
	go func() {
		for j := 0; j < p.Items; j++ {
			ins[j%p.Workers] <- uint64(j)
		}
		for _, in := range ins {
			close(in)
		}
	}()
	go func() {
		forwarders.Wait()
		close(merged)
	}()
	got := make([]uint64, 0, p.Items)
	for v := range merged {
		got = append(got, v)
	}
	if err := exactlyOnce(stamps(p.Items, p.Workers), got); err != nil {
		return result{}, err
	}
	return result{items: uint64(p.Items), threads: 2*p.Workers + 1}, perSourceOrder(got)
}

// pipelineBatch is how many values the batch stage groups.
const pipelineBatch = 8

// pipeline: source -> map (x*3) -> filter (even) -> batch (8) -> sink, with
// the most values in flight tracked against what the capacities allow.
func pipeline(p Params) (result, error) {
	capacity, err := p.Capacity.size()
	if err != nil {
		return result{}, err
	}
	work := p.Work.duration()
	var admitted, retired, mostInFlight atomic.Int64
	source := make(chan uint64, capacity)
	mapped := make(chan uint64, capacity)
	filtered := make(chan uint64, capacity)
	batches := make(chan []uint64, capacity)
	go func() {
		for x := 0; x < p.Items; x++ {
			source <- uint64(x)
			inFlight := admitted.Add(1) - retired.Load()
			for most := mostInFlight.Load(); inFlight > most; most = mostInFlight.Load() {
				if mostInFlight.CompareAndSwap(most, inFlight) {
					break
				}
			}
		}
		close(source)
	}()
	go func() {
		for x := range source {
			busy(work)
			mapped <- x * 3
		}
		close(mapped)
	}()
	go func() {
		for x := range mapped {
			if x%2 == 0 {
				filtered <- x
			} else {
				retired.Add(1)
			}
		}
		close(filtered)
	}()
	go func() {
		batch := make([]uint64, 0, pipelineBatch)
		for x := range filtered {
			batch = append(batch, x)
			if len(batch) == pipelineBatch {
				batches <- batch
				batch = make([]uint64, 0, pipelineBatch)
			}
		}
		if len(batch) > 0 {
			batches <- batch
		}
		close(batches)
	}()
	var got []uint64
	var sizes []int
	for batch := range batches {
		retired.Add(int64(len(batch)))
		got = append(got, batch...)
		sizes = append(sizes, len(batch))
	}
	var want []uint64
	for x := 0; x < p.Items; x++ {
		if v := uint64(x) * 3; v%2 == 0 {
			want = append(want, v)
		}
	}
	if len(got) != len(want) {
		return result{}, fmt.Errorf("the sink got %d values, not %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			return result{}, fmt.Errorf("value %d is %d, not %d", i, got[i], want[i])
		}
	}
	for i, n := range sizes {
		if n != pipelineBatch && i != len(sizes)-1 {
			return result{}, fmt.Errorf("batch %d holds %d values, not %d", i, n, pipelineBatch)
		}
	}
	most := mostInFlight.Load()
	if bound := int64(3*capacity + capacity*pipelineBatch + 2 + 2*pipelineBatch); most > bound {
		return result{}, fmt.Errorf("%d values in flight, more than the capacities allow (%d)", most, bound)
	}
	return result{items: uint64(p.Items), threads: 4, counters: map[string]uint64{"most_in_flight": uint64(most)}}, nil
}

// message is a producer-consumer message with a payload body.
type message struct {
	id   uint64
	body []byte
}

// producerConsumer: P producers and W consumers share one buffer. Without
// a payload the messages are bare ids, as on the Rust side.
func producerConsumer(p Params) (result, error) {
	if p.Payload == 0 {
		return producerConsumerOf(p, func(id uint64) uint64 { return id }, func(m uint64) (uint64, bool) { return m, true })
	}
	return producerConsumerOf(p, func(id uint64) message {
		body := make([]byte, p.Payload)
		for i := range body {
			body[i] = byte(id)
		}
		return message{id, body}
	}, func(m message) (uint64, bool) {
		intact := len(m.body) == p.Payload
		for _, b := range m.body {
			intact = intact && b == byte(m.id)
		}
		return m.id, intact
	})
}

func producerConsumerOf[M any](p Params, build func(id uint64) M, read func(M) (uint64, bool)) (result, error) {
	capacity, err := p.Capacity.size()
	if err != nil {
		return result{}, err
	}
	work := p.Work.duration()
	buffer := make(chan M, capacity)
	var producers sync.WaitGroup
	for src := 0; src < p.Producers; src++ {
		producers.Add(1)
		go func(src int) {
			defer producers.Done()
			for seq := 0; seq < share(p.Items, p.Producers, src); seq++ {
				buffer <- build(stamp(uint64(src), uint64(seq)))
			}
		}(src)
	}
	go func() {
		producers.Wait()
		close(buffer)
	}()
	received := make([][]uint64, p.Workers)
	intact := make([]bool, p.Workers)
	var consumers sync.WaitGroup
	for c := 0; c < p.Workers; c++ {
		consumers.Add(1)
		go func(c int) {
			defer consumers.Done()
			// Tallies stay local until the end: no shared cache line per message.
			var ids []uint64
			whole := true
			for m := range buffer {
				busy(work)
				id, ok := read(m)
				whole = whole && ok
				ids = append(ids, id)
			}
			received[c], intact[c] = ids, whole
		}(c)
	}
	consumers.Wait()
	var all []uint64
	for c, ids := range received {
		if !intact[c] {
			return result{}, fmt.Errorf("consumer %d received a damaged payload", c)
		}
		if err := perSourceOrder(ids); err != nil {
			return result{}, fmt.Errorf("consumer %d: %w", c, err)
		}
		all = append(all, ids...)
	}
	return result{items: uint64(p.Items), threads: p.Producers + p.Workers}, exactlyOnce(stamps(p.Items, p.Producers), all)
}

// selectShort and selectStall are select's readiness probe and stall limit.
const (
	selectShort = time.Millisecond
	selectStall = 10 * time.Second
)

// selectPattern: one consumer selects over P producers' channels until
// every one is closed; each value must come from the channel selected.
func selectPattern(p Params) (result, error) {
	capacity, err := p.Capacity.size()
	if err != nil {
		return result{}, err
	}
	channels := make([]chan uint64, p.Producers)
	for i := range channels {
		channels[i] = make(chan uint64, capacity)
	}
	cases := make([]reflect.SelectCase, 0, p.Producers+1)
	for _, ch := range channels {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
	}
	sources := make([]uint64, p.Producers)
	for i := range sources {
		sources[i] = uint64(i)
	}
	// Nothing is ready before the producers start.
	if chosen, _, _ := reflect.Select(append(cases, reflect.SelectCase{Dir: reflect.SelectDefault})); chosen != len(cases) {
		return result{}, errors.New("select reported a value before anything was sent")
	}
	timer := time.NewTimer(selectShort)
	if chosen, _, _ := reflect.Select(append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(timer.C)})); chosen != len(cases) {
		return result{}, errors.New("select with a timeout returned a value before anything was sent")
	}
	for src, ch := range channels {
		go func(src int, ch chan uint64) {
			for seq := 0; seq < share(p.Items, p.Producers, src); seq++ {
				ch <- stamp(uint64(src), uint64(seq))
			}
			close(ch)
		}(src, ch)
	}
	got := make([]uint64, 0, p.Items)
	stall := time.NewTimer(selectStall)
	defer stall.Stop()
	for len(cases) > 0 {
		chosen, value, ok := reflect.Select(append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(stall.C)}))
		if chosen == len(cases) {
			return result{}, fmt.Errorf("select stalled for %v with %d channels open", selectStall, len(cases))
		}
		if !ok {
			last := len(cases) - 1
			cases[chosen], sources[chosen] = cases[last], sources[last]
			cases, sources = cases[:last], sources[:last]
			continue
		}
		id := value.Uint()
		if sourceOf(id) != sources[chosen] {
			return result{}, fmt.Errorf("message %#x came from channel %d, not the one selected", id, sources[chosen])
		}
		got = append(got, id)
	}
	if err := exactlyOnce(stamps(p.Items, p.Producers), got); err != nil {
		return result{}, err
	}
	return result{items: uint64(p.Items), threads: p.Producers}, perSourceOrder(got)
}

// semaphore: the channel semaphore, N tokens in a buffered channel, shared
// by W workers; never more than N inside.
func semaphore(p Params) (result, error) {
	permits, err := p.Capacity.size()
	if err != nil || permits == 0 {
		return result{}, refused("a semaphore needs a bounded capacity of at least 1 permit")
	}
	work := p.Work.duration()
	tokens := make(chan struct{}, permits)
	var inside gauge
	var workers sync.WaitGroup
	for w := 0; w < p.Workers; w++ {
		workers.Add(1)
		go func(w int) {
			defer workers.Done()
			for j := 0; j < share(p.Items, p.Workers, w); j++ {
				tokens <- struct{}{}
				inside.enter()
				busy(work)
				inside.leave()
				<-tokens
			}
		}(w)
	}
	workers.Wait()
	most := inside.most.Load()
	if most > int64(permits) {
		return result{}, fmt.Errorf("%d inside at once with %d permits", most, permits)
	}
	if len(tokens) != 0 {
		return result{}, fmt.Errorf("%d permits never returned", len(tokens))
	}
	return result{items: uint64(p.Items), threads: p.Workers, counters: map[string]uint64{"most_inside": uint64(most)}}, nil
}

// The error group's workload: task 0 fails, the others must see the
// cancellation.
const (
	minTasks = 2
	maxTasks = 64
	giveUp   = 10 * time.Second
)

var errCancelled = errors.New("cancelled")

type taskFailed struct{ task int }

func (e taskFailed) Error() string { return fmt.Sprintf("task %d failed", e.task) }

// group is an error group with a limit: the first error cancels the rest
// (the shape of golang.org/x/sync/errgroup, kept to the standard library).
type group struct {
	ctx    context.Context
	cancel context.CancelFunc
	limit  chan struct{}
	tasks  sync.WaitGroup
	once   sync.Once
	err    error
}

func newGroup(parent context.Context, limit int) *group {
	ctx, cancel := context.WithCancel(parent)
	return &group{ctx: ctx, cancel: cancel, limit: make(chan struct{}, limit)}
}

// spawn waits for room under the limit, then runs task.
func (g *group) spawn(task func() error) {
	g.limit <- struct{}{}
	g.tasks.Add(1)
	go func() {
		defer func() { <-g.limit; g.tasks.Done() }()
		if err := task(); err != nil {
			g.once.Do(func() { g.err = err; g.cancel() })
		}
	}()
}

func (g *group) wait() error {
	g.tasks.Wait()
	g.cancel()
	return g.err
}

func errGroup(p Params) (result, error) {
	work := p.Work.duration()
	tasks := p.Items
	if tasks < minTasks || tasks > maxTasks {
		return result{}, refused("items must be between %d and %d for errgroup: one task that fails, one it cancels, and each is a goroutine the Rust side runs as a thread", minTasks, maxTasks)
	}
	limit := max(p.Workers, 1)
	parent, stopParent := context.WithCancel(context.Background())
	defer stopParent()
	g := newGroup(parent, limit)
	deadline := time.Now().Add(giveUp + 2*work)
	var started, ended, sawCancel atomic.Int64
	var running gauge
	for t := 0; t < tasks; t++ {
		t := t
		g.spawn(func() error {
			started.Add(1)
			running.enter()
			defer func() { running.leave(); ended.Add(1) }()
			if t == 0 {
				busy(work)
				busy(work)
				return taskFailed{0}
			}
			for time.Now().Before(deadline) {
				if g.ctx.Err() != nil {
					sawCancel.Add(1)
					return errCancelled
				}
				if work == 0 {
					select {
					case <-g.ctx.Done():
					case <-time.After(time.Until(deadline)):
					}
				} else {
					busy(work)
				}
			}
			return nil
		})
	}
	err := g.wait()
	switch {
	case started.Load() != int64(tasks):
		return result{}, fmt.Errorf("%d of %d tasks started", started.Load(), tasks)
	case ended.Load() != started.Load():
		return result{}, fmt.Errorf("%d of %d tasks ended", ended.Load(), started.Load())
	case running.most.Load() > int64(limit):
		return result{}, fmt.Errorf("%d tasks at once with a limit of %d", running.most.Load(), limit)
	case parent.Err() != nil:
		return result{}, errors.New("the group cancelled its parent")
	case !errors.Is(err, taskFailed{0}):
		return result{}, fmt.Errorf("the group returned %v, not task 0's failure", err)
	case sawCancel.Load() != int64(tasks-1):
		return result{}, fmt.Errorf("%d of %d tasks saw the cancellation", sawCancel.Load(), tasks-1)
	}
	return result{
		items:    uint64(tasks),
		threads:  tasks,
		counters: map[string]uint64{"cancelled": uint64(sawCancel.Load()), "most_at_once": uint64(running.most.Load())},
	}, nil
}
