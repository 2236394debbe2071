// Command chanlab-go is chanlab's Go reference: the same patterns and
// channel loads as the Rust side, on Go's own channels and goroutines, with
// the same oracles. `chanlab run` starts it as the worker process of every
// `go-chan` cell, exactly as it starts itself for a Rust cell: one job in,
// as JSON (`--job JSON`), one reply out on stdout. The only job is a
// measured run after a warm-up on a tenth of its items, as the Rust
// worker's (harness/src/runner/cell.rs); sizing is the parent's, which
// probes both workers with such runs, so neither side gets a measurement
// the other does not.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
)

// maxItems matches the Rust runner's MAX_ITEMS.
const maxItems = 1 << 23

// Capacity is a channel's buffer: {"bounded": n} or "unbounded".
type Capacity struct {
	Bounded   int
	Unbounded bool
}

func (c *Capacity) UnmarshalJSON(data []byte) error {
	var word string
	if json.Unmarshal(data, &word) == nil {
		if word != "unbounded" {
			return fmt.Errorf("unknown capacity %q", word)
		}
		c.Unbounded = true
		return nil
	}
	var bounded struct {
		Bounded *int `json:"bounded"`
	}
	if err := json.Unmarshal(data, &bounded); err != nil || bounded.Bounded == nil {
		return fmt.Errorf("unknown capacity %s", data)
	}
	c.Bounded = *bounded.Bounded
	return nil
}

// size is the Go channel buffer for c; Go channels cannot be unbounded.
func (c Capacity) size() (int, error) {
	if c.Unbounded {
		return 0, refused("Go channels have no unbounded buffer")
	}
	return c.Bounded, nil
}

// Work is a Rust Duration: {"secs": s, "nanos": n}.
type Work struct {
	Secs  int64 `json:"secs"`
	Nanos int64 `json:"nanos"`
}

func (w Work) duration() time.Duration {
	return time.Duration(w.Secs)*time.Second + time.Duration(w.Nanos)
}

// Params are a pattern's parameters (scenarios/src/params.rs).
type Params struct {
	Items     int      `json:"items"`
	Producers int      `json:"producers"`
	Workers   int      `json:"workers"`
	Capacity  Capacity `json:"capacity"`
	Payload   int      `json:"payload"`
	Work      Work     `json:"work"`
}

// Measure says how a load is timed.
type Measure struct {
	Mode string  `json:"mode"`
	Rate float64 `json:"rate"`
}

// LoadSpec is a channel load (scenarios/src/load.rs).
type LoadSpec struct {
	Producers    int      `json:"producers"`
	Consumers    int      `json:"consumers"`
	Capacity     Capacity `json:"capacity"`
	MessageBytes int      `json:"message_bytes"`
	Items        int      `json:"items"`
	Measure      Measure  `json:"measure"`
}

// Workload is a pattern or a load.
type Workload struct {
	Kind    string   `json:"kind"`
	Pattern string   `json:"pattern"`
	Params  Params   `json:"params"`
	Spec    LoadSpec `json:"spec"`
}

// Job is what the runner asks: measure a cell once.
type Job struct {
	Job  string `json:"job"`
	Cell struct {
		Workload Workload `json:"workload"`
	} `json:"cell"`
	Items int `json:"items"`
}

// CPU is the process's CPU time and context switches over a run.
type CPU struct {
	UserNs              uint64 `json:"user_ns"`
	SystemNs            uint64 `json:"system_ns"`
	VoluntarySwitches   uint64 `json:"voluntary_switches"`
	InvoluntarySwitches uint64 `json:"involuntary_switches"`
}

// Outcome is what one checked run measured.
type Outcome struct {
	Items      uint64
	Elapsed    time.Duration
	CPU        CPU
	Threads    int
	SentBy     []uint64
	ReceivedBy []uint64
	Counters   map[string]uint64
	// Latency is (value in ns, count) pairs at HdrHistogram's precision.
	Latency [][2]uint64
	// AllocationsPerItem is set by execute, from both runs' Mallocs; a
	// negative value means there is no figure.
	AllocationsPerItem float64
}

// errRefused marks a workload this implementation cannot run.
type errRefused struct{ reason string }

func (e errRefused) Error() string { return e.reason }

func refused(format string, args ...any) error {
	return errRefused{fmt.Sprintf(format, args...)}
}

func main() {
	jobText := flag.String("job", "", "the job, as JSON")
	info := flag.Bool("info", false, "print the Go version and GOMAXPROCS as JSON")
	flag.Parse()
	if *info {
		_ = json.NewEncoder(os.Stdout).Encode(map[string]any{"version": runtime.Version(), "gomaxprocs": runtime.GOMAXPROCS(0)})
		return
	}
	if *jobText == "" {
		fmt.Fprintln(os.Stderr, "usage: chanlab-go --job JSON (started by `chanlab run`)")
		os.Exit(2)
	}
	var job Job
	if err := json.Unmarshal([]byte(*jobText), &job); err != nil {
		fmt.Fprintf(os.Stderr, "chanlab-go: reading the job: %v\n", err)
		os.Exit(2)
	}
	reply := execute(job)
	if err := json.NewEncoder(os.Stdout).Encode(reply); err != nil {
		fmt.Fprintf(os.Stderr, "chanlab-go: writing the reply: %v\n", err)
		os.Exit(2)
	}
}

// execute does one job and returns the reply, in the runner's Reply shape.
func execute(job Job) map[string]any {
	workload := job.Cell.Workload
	switch job.Job {
	case "measure":
		// Warm up on a tenth of the items, then measure, as the Rust worker
		// does; the heap allocations of the measured run beyond the
		// warm-up's, per item beyond the warm-up's, are what an item costs
		// once the setup both share cancels.
		warmUp := max(job.Items/10, 1)
		before := mallocs()
		warm, err := attempt(workload, warmUp)
		if err != nil {
			return failure(err)
		}
		warmUpAllocations := mallocs() - before
		before = mallocs()
		outcome, err := attempt(workload, job.Items)
		if err != nil {
			return failure(err)
		}
		allocations := mallocs() - before
		outcome.AllocationsPerItem = -1
		if job.Items > warmUp {
			extra := 0.0
			if allocations > warmUpAllocations {
				extra = float64(allocations - warmUpAllocations)
			}
			outcome.AllocationsPerItem = extra / float64(job.Items-warmUp)
		}
		reply := measured(outcome)
		reply["warm_up"] = map[string]uint64{
			"items":      warm.Items,
			"elapsed_ns": uint64(warm.Elapsed.Nanoseconds()),
			"cpu_ns":     warm.CPU.UserNs + warm.CPU.SystemNs,
		}
		return reply
	default:
		return map[string]any{"reply": "failed", "reason": fmt.Sprintf("unknown job %q", job.Job)}
	}
}

// attempt runs workload with items items.
func attempt(workload Workload, items int) (Outcome, error) {
	switch workload.Kind {
	case "pattern":
		params := workload.Params
		params.Items = items
		return runPattern(workload.Pattern, params)
	case "load":
		spec := workload.Spec
		spec.Items = items
		return runLoad(spec)
	default:
		return Outcome{}, refused("unknown workload kind %q", workload.Kind)
	}
}

// timed runs body between two readings of the clock and of the process's
// CPU usage.
func timed(body func() error) (time.Duration, CPU, error) {
	before := usage()
	start := time.Now()
	err := body()
	elapsed := time.Since(start)
	return elapsed, usage().since(before), err
}

// mallocs is how many heap objects the process has allocated so far. It
// stops the world briefly, so it is read only outside the timed region.
func mallocs() uint64 {
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	return stats.Mallocs
}

type rusage syscall.Rusage

func usage() rusage {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return rusage(ru)
}

func (later rusage) since(earlier rusage) CPU {
	ns := func(a, b syscall.Timeval) uint64 {
		d := (a.Sec-b.Sec)*1_000_000_000 + (int64(a.Usec)-int64(b.Usec))*1_000
		if d < 0 {
			return 0
		}
		return uint64(d)
	}
	count := func(a, b int64) uint64 {
		if a < b {
			return 0
		}
		return uint64(a - b)
	}
	return CPU{
		UserNs:              ns(later.Utime, earlier.Utime),
		SystemNs:            ns(later.Stime, earlier.Stime),
		VoluntarySwitches:   count(int64(later.Nvcsw), int64(earlier.Nvcsw)),
		InvoluntarySwitches: count(int64(later.Nivcsw), int64(earlier.Nivcsw)),
	}
}

func measured(o Outcome) map[string]any {
	seconds := o.Elapsed.Seconds()
	throughput := 0.0
	if seconds > 0 {
		throughput = float64(o.Items) / seconds
	}
	reply := map[string]any{
		"reply":      "measured",
		"items":      o.Items,
		"elapsed_ns": o.Elapsed.Nanoseconds(),
		"throughput": throughput,
		"cpu":        o.CPU,
		"threads":    o.Threads,
	}
	if len(o.SentBy) > 0 {
		reply["sent_by"] = o.SentBy
		reply["received_by"] = o.ReceivedBy
	}
	if len(o.Counters) > 0 {
		reply["counters"] = o.Counters
	}
	if o.Latency != nil {
		reply["latency_ns"] = o.Latency
	}
	if o.AllocationsPerItem >= 0 {
		reply["allocations_per_item"] = o.AllocationsPerItem
	}
	return reply
}

func failure(err error) map[string]any {
	var refusal errRefused
	if errors.As(err, &refusal) {
		return map[string]any{"reply": "refused", "reason": refusal.reason}
	}
	return map[string]any{"reply": "failed", "reason": err.Error()}
}

// threads is what a Go run uses: the Ps that run goroutines.
func threads() int { return runtime.GOMAXPROCS(0) }

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func max(a, b int) int {
	if a > b {
		return a
	}
	return b
}
