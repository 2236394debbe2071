package main

// The gate's Go tests: every scenario at a small size passes its oracle,
// and the oracles reject broken deliveries (a check that cannot fail
// proves nothing).

import (
	"strings"
	"testing"
)

// smallParams is a quick run of pattern name, within its own item limit
// (errgroup runs a goroutine per item, up to maxTasks).
func smallParams(name string) Params {
	items := 500
	if name == "errgroup" {
		items = maxTasks
	}
	return Params{Items: items, Producers: 2, Workers: 2, Capacity: Capacity{Bounded: 16}}
}

func TestEveryPatternPassesItsOracle(t *testing.T) {
	for name := range patterns {
		for _, capacity := range []int{0, 1, 16} {
			params := smallParams(name)
			params.Capacity = Capacity{Bounded: capacity}
			outcome, err := runPattern(name, params)
			if name == "semaphore" && capacity == 0 {
				if _, isRefusal := err.(errRefused); !isRefusal {
					t.Errorf("semaphore with no permits: want a refusal, got %v", err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s at capacity %d: %v", name, capacity, err)
				continue
			}
			if outcome.Items == 0 || outcome.Elapsed <= 0 {
				t.Errorf("%s at capacity %d: nothing measured: %+v", name, capacity, outcome)
			}
		}
	}
}

func TestPatternsWithPayloadAndWork(t *testing.T) {
	for _, name := range []string{"producer-consumer", "worker-pool", "pub-sub", "singleflight", "errgroup"} {
		params := smallParams(name)
		params.Payload = 64
		params.Work = Work{Nanos: 1000}
		if _, err := runPattern(name, params); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestEveryLoadPassesItsOracle(t *testing.T) {
	shapes := [][2]int{{1, 1}, {2, 1}, {2, 2}}
	for _, shape := range shapes {
		for _, capacity := range []int{0, 1, 64} {
			for _, measure := range []Measure{{Mode: "throughput"}, {Mode: "closed-loop"}, {Mode: "open-loop", Rate: 200_000}} {
				for _, bytes := range []int{0, 8, 16, 256, 4096} {
					spec := LoadSpec{
						Producers: shape[0], Consumers: shape[1], Capacity: Capacity{Bounded: capacity},
						MessageBytes: bytes, Items: 2000, Measure: measure,
					}
					outcome, err := runLoad(spec)
					if measure.Mode != "throughput" && bytes < 16 {
						if _, isRefusal := err.(errRefused); !isRefusal {
							t.Errorf("%+v: an untimeable load must be refused, got %v", spec, err)
						}
						continue
					}
					if err != nil {
						t.Errorf("%+v: %v", spec, err)
						continue
					}
					if measure.Mode != "throughput" && len(outcome.Latency) == 0 {
						t.Errorf("%+v: no latency recorded", spec)
					}
				}
			}
		}
	}
}

func TestAnIdleLoadSleepsBeforeEachMessage(t *testing.T) {
	spec := LoadSpec{
		Producers: 2, Consumers: 1, Capacity: Capacity{Bounded: 64},
		MessageBytes: 16, Items: 20, Measure: Measure{Mode: "idle"},
	}
	outcome, err := runLoad(spec)
	if err != nil {
		t.Fatalf("%+v: %v", spec, err)
	}
	// Each producer sends 10 messages, each after a full gap.
	if outcome.Elapsed < 10*idleGap || len(outcome.Latency) != 0 {
		t.Errorf("an idle load took %v with %d latency buckets", outcome.Elapsed, len(outcome.Latency))
	}
}

func TestUnboundedIsRefusedWithAReason(t *testing.T) {
	params := smallParams("worker-pool")
	params.Capacity = Capacity{Unbounded: true}
	_, err := runPattern("worker-pool", params)
	if _, isRefusal := err.(errRefused); !isRefusal || !strings.Contains(err.Error(), "unbounded") {
		t.Errorf("want a refusal naming unbounded, got %v", err)
	}
}

func TestAMeasureJobWarmsUpThenMeasures(t *testing.T) {
	job := Job{Job: "measure", Items: 5000}
	job.Cell.Workload = Workload{Kind: "load", Spec: LoadSpec{Producers: 2, Consumers: 2, Capacity: Capacity{Bounded: 64}, MessageBytes: 16, Measure: Measure{Mode: "throughput"}}}
	reply := execute(job)
	if reply["reply"] != "measured" || reply["items"] != uint64(5000) {
		t.Errorf("measuring replied %v", reply)
	}
	// A channel of values allocates nothing per message once it is made.
	if perItem, ok := reply["allocations_per_item"].(float64); !ok || perItem > 0.1 {
		t.Errorf("allocations per item: %v", reply["allocations_per_item"])
	}
	if warm, ok := reply["warm_up"].(map[string]uint64); !ok || warm["items"] != 500 {
		t.Errorf("the warm-up is not on record: %v", reply["warm_up"])
	}
	job.Job = "size"
	if reply := execute(job); reply["reply"] != "failed" {
		t.Errorf("sizing is the parent's, but the worker replied %v", reply)
	}
}

// The oracles' broken twins: deliveries a correct channel never makes.
func TestOraclesRejectBrokenDeliveries(t *testing.T) {
	sent := stamps(10, 2)
	lost := sent[1:]
	duplicated := append(append([]uint64(nil), sent...), sent[3])
	foreign := append(append([]uint64(nil), sent[1:]...), stamp(7, 0))
	for name, got := range map[string][]uint64{"lost": lost, "duplicated": duplicated, "foreign": foreign} {
		if exactlyOnce(sent, got) == nil {
			t.Errorf("exactlyOnce accepted a %s delivery", name)
		}
	}
	if exactlyOnce(sent, sent) != nil {
		t.Error("exactlyOnce rejected a correct delivery")
	}
	reordered := []uint64{stamp(0, 0), stamp(1, 0), stamp(0, 2), stamp(0, 1)}
	if perSourceOrder(reordered) == nil {
		t.Error("perSourceOrder accepted a reordered delivery")
	}
	if perSourceOrder([]uint64{stamp(0, 0), stamp(1, 0), stamp(0, 1)}) != nil {
		t.Error("perSourceOrder rejected an interleaved but ordered delivery")
	}
}

// The load's tallies reject a delivery that loses one message and delivers
// another twice in its place, to the same consumer or to another one, where
// every count adds up and only the sum of mixed stamps can tell.
func TestTalliesRejectALossPairedWithADuplicate(t *testing.T) {
	sentBy := []uint64{4, 2}
	tallied := func(deliveries ...[][2]uint64) []*tally {
		var all []*tally
		for _, messages := range deliveries {
			got := newTally(2)
			for _, m := range messages {
				got.count++
				got.take(stamp(m[0], m[1]))
			}
			all = append(all, got)
		}
		return all
	}
	correct := tallied([][2]uint64{{0, 0}, {1, 0}, {0, 2}}, [][2]uint64{{0, 1}, {1, 1}, {0, 3}})
	if err := checkTallies(sentBy, correct); err != nil {
		t.Errorf("a correct delivery was rejected: %v", err)
	}
	for name, broken := range map[string][]*tally{
		"duplicate to another consumer":  tallied([][2]uint64{{0, 0}, {1, 0}, {0, 2}}, [][2]uint64{{0, 1}, {1, 1}, {0, 2}}),
		"duplicate to the same consumer": tallied([][2]uint64{{0, 0}, {0, 1}, {0, 1}, {1, 0}, {0, 2}, {1, 1}}),
		"lost":                           tallied([][2]uint64{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}}),
		"stranger":                       tallied([][2]uint64{{0, 0}, {0, 1}, {0, 2}, {0, 3}, {1, 0}, {7, 0}}),
	} {
		if checkTallies(sentBy, broken) == nil {
			t.Errorf("checkTallies accepted a delivery with a %s", name)
		}
	}
	// The same mix as oracle.rs's mix64 (its unit test pins these values).
	if mix64(0) != 0xE220A8397B1DCDAF || mix64(stamp(1, 2)) != 0xB3703AD894507022 {
		t.Errorf("mix64 differs from the Rust side's")
	}
}

func TestHistogramBucketsKeepThreeSignificantDigits(t *testing.T) {
	previous := -1
	for _, value := range []uint64{1, 999, 2047, 2048, 2049, 4095, 4096, 123_456, 59_999_999_999} {
		index := histogramIndex(value)
		bucket := histogramValue(index)
		if index < previous || index >= histogramBuckets {
			t.Errorf("%d has bucket %d, out of order or range", value, index)
		}
		if bucket > value || float64(value-bucket) > float64(value)/1000 {
			t.Errorf("%d rounds to %d: more than 0.1%% off", value, bucket)
		}
		previous = index
	}
}
